// The web client of one zone. It signs in through the API host, asks the
// cell who the session is for a company, and uploads a file to the storage
// host with a URL the cell signs. Its settings come from data attributes:
// the CSP runs no inline script, only this file (nonce'd).
const api = document.body.dataset.api;
const $ = (id) => document.getElementById(id);
const company = () => $("company").value;

// call sends a request to the API host with the session cookie and returns
// the JSON answer; a problem (RFC 9457) is thrown with its code.
async function call(method, path, body) {
  const r = await fetch(api + path, {
    method,
    body,
    credentials: "include",
    headers: { "Procore-Company-Id": company() },
  });
  return answer(r);
}

async function answer(r) {
  const body = await r.json();
  if (!r.ok) throw new Error(body.code || "status " + r.status);
  return body;
}

// show runs work and prints its answer in the element out, or the problem.
function show(out, work) {
  return async () => {
    $("problem").textContent = "";
    $(out).textContent = "";
    try {
      $(out).textContent = JSON.stringify(await work(), null, 2);
    } catch (err) {
      $("problem").textContent = err.message;
    }
  };
}

$("login").addEventListener("click", show("session", () =>
  call("POST", "/login", new URLSearchParams({ user: $("user").value }))));

$("me").addEventListener("click", show("claims", async () =>
  (await call("GET", "/rest/v1.0/me")).claims));

$("upload").addEventListener("click", show("etag", async () => {
  const file = $("file").files[0];
  if (!file) throw new Error("choose a file first");
  const path = "/rest/v1.0/companies/" + encodeURIComponent(company()) +
    "/projects/" + encodeURIComponent($("project").value) + "/uploads";
  const { upload_url } = await call("POST", path);
  // The signed URL is the authority: no cookie goes to the storage host.
  const r = await fetch(upload_url, {
    method: "PUT",
    body: file,
    headers: { "Content-Type": file.type || "application/octet-stream" },
  });
  const result = await answer(r);
  return { etag: r.headers.get("ETag"), size: result.size };
}));
