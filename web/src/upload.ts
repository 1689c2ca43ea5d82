// The file goes straight to the bucket with the presigned POST the API made for this job: the
// form's fields as given, the file last (S3 ignores fields after the file).

export type UploadProgress = (sent: number, total: number) => void;

export function uploadFile(
  form: { url: string; fields: Record<string, string> },
  file: File,
  onProgress: UploadProgress,
): Promise<void> {
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append("file", file, file.name);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", form.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else {
        reject(new Error(`The upload was refused (HTTP ${request.status}): ${storageMessage(request.responseText)}`));
      }
    });
    request.addEventListener("error", () => reject(new Error("The upload did not reach the store")));
    request.addEventListener("abort", () => reject(new Error("The upload was cancelled")));
    request.send(body);
  });
}

/** S3 answers refusals in XML: its <Message>, read as text (never as markup). */
function storageMessage(body: string): string {
  const document = new DOMParser().parseFromString(body, "application/xml");
  return document.querySelector("Message")?.textContent ?? (body.slice(0, 200) || "no reason given");
}
