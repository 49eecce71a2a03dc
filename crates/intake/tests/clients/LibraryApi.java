// The rest of a 001 client, written the way the seed's samples are (Apache HttpClient 4, the
// DefaultHttpClient they use, Bearer token, Accept: application/json): JSON calls to make folders,
// lists and contacts, and the polling the seed describes ("monitor the request status using the
// location value in the response header" until the file is processed; "poll this URI ... until
// the status is either COMPLETE or ERROR"). Run by crates/intake/tests/blackbox/dialect_library.rs.
//
//   java LibraryApi GET  URL TOKEN
//   java LibraryApi POST URL TOKEN JSON
//       prints "STATUS <code>", "LOCATION <value or ->", then the body on one line.
//   java LibraryApi POLL URL TOKEN SECONDS
//       GETs URL (a Location, as it came) every 100 ms until every "status" in the body is final
//       (Active, VirusFound, Failed, Deleted, COMPLETE, ERROR: an activity has one, an upload
//       status of several files one per file) or SECONDS pass; prints "SEEN <statuses>" each
//       time they change (comma-separated), then "STATUS <code>" and the last body. Exits 3 when
//       the time runs out.
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.http.Header;
import org.apache.http.HttpResponse;
import org.apache.http.client.HttpClient;
import org.apache.http.client.methods.HttpGet;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.client.methods.HttpRequestBase;
import org.apache.http.entity.ContentType;
import org.apache.http.entity.StringEntity;
import org.apache.http.impl.client.DefaultHttpClient;
import org.apache.http.util.EntityUtils;

public class LibraryApi {
  private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"([A-Za-z_]+)\"");
  private static final String[] FINAL = {"Active", "VirusFound", "Failed", "Deleted", "COMPLETE", "ERROR"};

  static final class Answer {
    int code;
    String location;
    String body;
  }

  static Answer send(HttpClient client, HttpRequestBase request, String token) throws Exception {
    request.addHeader("Authorization", "Bearer " + token);
    request.addHeader("Accept", "application/json");
    HttpResponse response = client.execute(request);
    Answer answer = new Answer();
    answer.code = response.getStatusLine().getStatusCode();
    Header location = response.getFirstHeader("Location");
    answer.location = location == null ? "-" : location.getValue();
    answer.body = response.getEntity() == null ? "" : EntityUtils.toString(response.getEntity(), "UTF-8");
    return answer;
  }

  static boolean isFinal(String status) {
    for (String f : FINAL) {
      if (f.equals(status)) {
        return true;
      }
    }
    return false;
  }

  public static void main(String[] args) throws Exception {
    final HttpClient httpclient = new DefaultHttpClient();
    try {
      String mode = args[0];
      if (mode.equals("POLL")) {
        long deadline = System.currentTimeMillis() + 1000L * Long.parseLong(args[3]);
        String last = null;
        while (true) {
          // The Location as it came: HttpClient 4 needs it absolute.
          Answer answer = send(httpclient, new HttpGet(args[1]), args[2]);
          Matcher m = STATUS.matcher(answer.body);
          StringBuilder statuses = new StringBuilder();
          boolean done = true;
          while (answer.code == 200 && m.find()) {
            statuses.append(statuses.length() == 0 ? "" : ",").append(m.group(1));
            done &= isFinal(m.group(1));
          }
          String status = statuses.toString();
          if (!status.isEmpty() && !status.equals(last)) {
            System.out.println("SEEN " + status);
            last = status;
          }
          if (answer.code != 200 || (done && !status.isEmpty())) {
            System.out.println("STATUS " + answer.code);
            System.out.println(answer.body.replace('\n', ' '));
            return;
          }
          if (System.currentTimeMillis() > deadline) {
            System.out.println("STATUS " + answer.code);
            System.out.println(answer.body.replace('\n', ' '));
            System.exit(3);
          }
          Thread.sleep(100);
        }
      }
      HttpRequestBase request;
      if (mode.equals("GET")) {
        request = new HttpGet(args[1]);
      } else if (mode.equals("POST")) {
        HttpPost post = new HttpPost(args[1]);
        post.setEntity(new StringEntity(args[3], ContentType.APPLICATION_JSON));
        request = post;
      } else {
        throw new IllegalArgumentException("mode must be GET, POST or POLL: " + mode);
      }
      Answer answer = send(httpclient, request, args[2]);
      System.out.println("STATUS " + answer.code);
      System.out.println("LOCATION " + answer.location);
      System.out.println(answer.body.replace('\n', ' '));
    } finally {
      httpclient.getConnectionManager().shutdown();
    }
  }
}
