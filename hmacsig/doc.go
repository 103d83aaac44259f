// Package hmacsig implements URI integrity signatures, version 1: a URL that
// proves the holder of a key allowed this method on this path with exactly
// these query parameters until a time, and, with revision 1.1's content
// digest, with exactly this body. The wire format is in SPEC.md beside this
// file; it, not this code, is the contract, and testdata holds the vectors
// every implementation must pass.
//
// The package owns signing ([Signer]), verifying ([Verifier], [Require]),
// signing outbound calls ([Transport]) and reading keys ([ParseKey],
// [LoadKey]).
//
// # Wiring
//
// Verify inbound upload PUTs:
//
//	key, err := hmacsig.LoadKey("UPLOAD_URL_KEY", "/run/secrets/upload_url_key")
//	v, err := hmacsig.NewVerifier(hmacsig.Keys{Current: key})
//	require, err := hmacsig.Require(v)
//	mux.Handle("PUT /uploads/{id}", require(uploadHandler))
//
// Sign calls to another service:
//
//	s, err := hmacsig.NewSigner(fusKey, hmacsig.WithKeyID("fus-2026-11"))
//	client := &http.Client{Transport: &hmacsig.Transport{Signer: s, Base: edge.Outbound(nil)}}
//
// # Binding the body
//
// A signed URL replayed within its lifetime could carry another body. To bind
// it, the signer sends the body's RFC 9530 Content-Digest and signs it with
// the URL ([Transport].ContentDigest computes it, [ContentDigest] and
// [Signer.SignContent] do it by hand), and the receiving service requires it
// where handlers read bodies:
//
//	client := &http.Client{Transport: &hmacsig.Transport{Signer: s, ContentDigest: true}}
//	require, err := hmacsig.Require(v, hmacsig.RequireContentDigest("PUT"))
//	mux.Handle("PUT /session", require(h))
//
// The body is checked as it streams, at its end (see [Require]): a handler
// must read it to io.EOF and check the error before acting on it.
//
// # Keys
//
// A key is at least 32 random bytes (openssl rand -hex 32), carried in
// configuration as hex or base64 and used as the decoded bytes: signing with
// the hex text itself is the classic interoperability bug. Use one key per
// purpose, per receiving service and per environment, so that a leaked URL or
// key is worth nothing elsewhere. To rotate unnamed keys, verify with the new
// key as Keys.Current and the old one as Keys.Previous, move the signers to
// the new key, and drop Previous once the longest lifetime has passed;
// [KeyIDFromContext] ("current" or "previous") tells when nothing uses the old one.
// Named keys (a kid in the URL, Keys.ByID) rotate by adding the new kid
// before signers use it.
//
// # Signing from another language
//
// The simplest correct signer builds the URL from its decoded parts in the
// canonical encoding, so the URL it sends is literally the text it signed:
// every byte outside A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex; a
// space is %20, never +), parameters are sorted by encoded name, and the
// signature goes last. Library encoders (encodeURIComponent, URLSearchParams,
// Ruby's URI.encode_www_form_component) do not produce this form. Segments
// must not be empty (but the last), "." or "..".
//
// Ruby:
//
//	require "openssl"
//
//	def enc(s) = s.to_s.b.gsub(/[^A-Za-z0-9\-._~]/n) { |c| format("%%%02X", c.ord) }
//
//	# segments and params are decoded text; key is the raw bytes ([hex].pack("H*")).
//	def signed_path(key, method, segments, params, lifetime: 60, kid: nil)
//	  params = params.merge("expires_at" => (Time.now.to_i + lifetime).to_s)
//	  params["kid"] = kid if kid
//	  path = "/" + segments.map { |s| enc(s) }.join("/")
//	  query = params.map { |k, v| [enc(k), enc(v)] }.sort_by(&:first).map { |k, v| "#{k}=#{v}" }.join("&")
//	  sts = ["URI-INTEGRITY-V1", method.upcase, path, query].join("\n")
//	  "#{path}?#{query}&sig=#{OpenSSL::HMAC.hexdigest("SHA256", key, sts)}"
//	end
//
// TypeScript (Node; in a worker, crypto.subtle.sign("HMAC", …) does the same):
//
//	import { createHmac } from "node:crypto";
//
//	const enc = (s: string) =>
//	  Array.from(new TextEncoder().encode(s), (b) =>
//	    /[A-Za-z0-9._~-]/.test(String.fromCharCode(b))
//	      ? String.fromCharCode(b)
//	      : "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
//
//	export function signedPath(key: Buffer, method: string, segments: string[],
//	    params: Record<string, string>, lifetimeS = 60, kid?: string): string {
//	  const all = { ...params, expires_at: String(Math.floor(Date.now() / 1000) + lifetimeS), ...(kid ? { kid } : {}) };
//	  const path = "/" + segments.map(enc).join("/");
//	  const query = Object.entries(all).map(([k, v]) => [enc(k), enc(v)])
//	    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("&");
//	  const sts = ["URI-INTEGRITY-V1", method.toUpperCase(), path, query].join("\n");
//	  return `${path}?${query}&sig=${createHmac("sha256", key).update(sts).digest("hex")}`;
//	}
//
// interop/sign.mjs is a complete, independent signer and verifier in plain
// Node, tested against this package; it also signs arbitrary existing URLs.
package hmacsig
