// The 001 seed's removefromlists sample (Apache HttpClient 4 + httpmime). The URL, the token and
// the file come from the command line, and an optional fourth argument replaces the lists "1,4".
// Two fixes so it compiles: the seed's `"1", "4"` becomes the string "1,4" (the lists parameter is
// comma-separated ids) and its typographic quotes around application/json become plain ones. The
// request is otherwise the seed's: its own bare `content-type: multipart/form-data` (HttpClient
// then leaves out the one with the boundary), StringBody file_name and lists, a FileBody data.
// It also prints the response (status line with headers, then the body), as the seed's library
// sample does, so the test can follow the Location header.
// Run by crates/intake/tests/blackbox/dialect_library.rs.
import java.io.File;

import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.client.HttpClient;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.entity.mime.MultipartEntity;
import org.apache.http.entity.mime.content.FileBody;
import org.apache.http.entity.mime.content.StringBody;
import org.apache.http.impl.client.DefaultHttpClient;
import org.apache.http.util.EntityUtils;

public class RemoveFromLists {
  public static void main(String[] args) throws Exception {
   final HttpClient httpclient = new DefaultHttpClient();
   final HttpPost httppost = new HttpPost(args[0]);

   httppost.addHeader("Authorization", "Bearer " + args[1]);
   httppost.addHeader("Accept", "application/json");
   httppost.addHeader("content-type", "multipart/form-data");

   final File fileToUse = new File(args[2]);   //e.g. /temp/contact.txt
   final FileBody data = new FileBody(fileToUse);
   final String listIds = args.length > 3 ? args[3] : "1,4";
   final StringBody lists = new StringBody(listIds);
   final StringBody fileName = new StringBody(fileToUse.getName());
   final MultipartEntity reqEntity = new MultipartEntity();
   reqEntity.addPart("file_name", fileName);
   reqEntity.addPart("lists", lists);
   reqEntity.addPart("data", data);

   httppost.setEntity(reqEntity);

   final HttpResponse response = httpclient.execute(httppost);
   final HttpEntity resEntity = response.getEntity();
   System.out.println(response);
   System.out.println(EntityUtils.toString(resEntity));

   EntityUtils.consume(resEntity);

  httpclient.getConnectionManager().shutdown();
}
}
