package edge

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers status with v encoded as JSON. It sets Content-Type to
// application/json unless the handler already set one, and Cache-Control to
// no-store unless already set: an answer about a session, an upload or a
// health check is never one to cache. An encoding error after the header
// is sent cannot reach the client and is dropped; answer errors with
// [WriteProblem]. Strings are not HTML-escaped: an API answer is no HTML
// page, and a URL's & stays & (not \u0026) for clients that compare it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
