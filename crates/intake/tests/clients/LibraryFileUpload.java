// The 001 seed's "Multipart Encoded POST" sample (Apache HttpClient 4 + httpmime), unchanged but
// for what a test must vary, all from the command line: the URL, the token and the file; an
// optional fourth argument replaces the hard-coded file_type "JPG" (the EICAR test sends DOCX), an
// optional fifth the hard-coded folder_id "-1". An empty token leaves the Authorization header
// out (for the api_key query parameter). Everything else is sent as the seed sends it: its own
// bare `Content-type: multipart/form-data` (so HttpClient leaves out the one with the boundary),
// a MultipartEntity in its default (strict) mode, StringBody parts, a FileBody `data`.
// It prints what the seed prints: the response (status line and headers), the entity, the body.
// Run by crates/intake/tests/blackbox/dialect_library.rs.
import java.io.File;
import java.io.IOException;

import org.apache.http.HttpEntity;
import org.apache.http.HttpResponse;
import org.apache.http.client.ClientProtocolException;
import org.apache.http.client.HttpClient;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.entity.mime.MultipartEntity;
import org.apache.http.entity.mime.content.FileBody;
import org.apache.http.entity.mime.content.StringBody;
import org.apache.http.impl.client.DefaultHttpClient;
import org.apache.http.util.EntityUtils;

public class LibraryFileUpload {
       /** * @param args URL TOKEN FILE [FILE_TYPE [FOLDER_ID]]
        * @throws IOException
        * @throws ClientProtocolException
        */
       public static void main(String[] args) throws ClientProtocolException, IOException {

              HttpClient httpclient = new DefaultHttpClient();
              HttpPost httppost = new HttpPost(args[0]);

              if (!args[1].isEmpty()) {
                     httppost.addHeader("Authorization", "Bearer " + args[1]);
              }
              httppost.addHeader("Accept", "application/json");
              httppost.addHeader("Content-type", "multipart/form-data");

              File fileToUse = new File(args[2]); //e.g. /temp/dinnerplate-special.jpg
              FileBody data = new FileBody(fileToUse);

              String file_type = args.length > 3 ? args[3] : "JPG" ;
              String description = "Oppa Gangnam Style";
              String folder_id = args.length > 4 ? args[4] : "-1";
              String source = "MYCOMPUTER" ;

              MultipartEntity reqEntity = new MultipartEntity();
              reqEntity.addPart("file_name", new StringBody( fileToUse.getName() ) );
              reqEntity.addPart("folder_id", new StringBody(folder_id));
              reqEntity.addPart("description", new StringBody(description));
              reqEntity.addPart("source", new StringBody(source));
              reqEntity.addPart("file_type", new StringBody(file_type));
              reqEntity.addPart("data", data);

              httppost.setEntity(reqEntity);

             HttpResponse response = httpclient.execute(httppost);
             System.out.println( response ) ;

             HttpEntity resEntity = response.getEntity();
             System.out.println( resEntity ) ;
              System.out.println( EntityUtils.toString(resEntity) );

              EntityUtils.consume(resEntity);
              httpclient.getConnectionManager().shutdown();
      }
}
