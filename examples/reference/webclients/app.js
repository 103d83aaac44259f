// Asks the cell, through this zone's gateway, who the session is.
fetch("/rest/v1.0/me", { credentials: "same-origin" })
  .then((r) => r.json())
  .then((body) => {
    document.getElementById("claims").textContent = JSON.stringify(body, null, 2);
  })
  .catch((err) => {
    document.getElementById("claims").textContent = String(err);
  });
