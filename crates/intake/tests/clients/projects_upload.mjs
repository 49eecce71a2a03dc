// The 004 seed's TypeScript sample (createUpload with fetch, FormData and
// File), as plain JavaScript for Node 20, unchanged but for the URL and the
// API key, which come from the command line:
//
//     node projects_upload.mjs BASE_URL API_KEY PROJECT_ID
//
// Prints the JSON answer on one line; on an HTTP error the sample throws
// `Upload failed: <status> <statusText>` (exit code 1).

const [baseUrl, apiKey, projectId] = process.argv.slice(2);

const createUpload = async (file, data) => {
  const formData = new FormData();
  formData.append('file', file);
  formData.append('name', data.name);
  formData.append('projectId', data.projectId);
  if (data.meta) {
    formData.append('meta', JSON.stringify(data.meta));
  }
  const response = await fetch(`${baseUrl}/api/v1/uploads`, {
    method: 'POST',
    headers: {
      'Authorization': `Bearer ${apiKey}`
    },
    body: formData
  });
  if (!response.ok) {
    throw new Error(`Upload failed: ${response.status} ${response.statusText}`);
  }
  return response.json();
};

// Example usage
const file = new File(['file content'], 'document.pdf', { type: 'application/pdf' });
createUpload(file, {
  name: 'Important Document',
  projectId: projectId,
  meta: [
    {name: 'category', value: 'invoice'},
    {name: 'department', value: 'finance'}
  ]
}).then(result => console.log(JSON.stringify(result)));
