package passport

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
)

// StorageService exposes a Store over HTTP to internal systems: a login
// service creates sessions, the authentication service reads them, any
// internal system revokes them. Every call must carry a valid hmacsig
// signature made with the session-storage key; anything else is refused
// with hmacsig's 403 problems before the store is touched.
//
// A PUT must also bind its body: its signature covers the body's RFC 9530
// Content-Digest (hmacsig.Signer.SignContent; StoreClient sends it through
// hmacsig.Transport), so a signed URL replayed within its lifetime cannot
// store another session. A PUT whose signature covers no digest is refused
// with 403 content_digest_missing; a body that does not match it, with 403
// content_digest_mismatch. The body (at most 256 KiB) is read to its end,
// where the digest is checked, before it is decoded and before the store is
// touched.
//
// Routes, under the prefix (WithPathPrefix):
//
//	GET  /session?key={key}        read a session (key = TokenKey(token))
//	PUT  /session?key={key}        create or replace a session (JSON body)
//	POST /revoke/session/{id}      revoke one session
//	POST /revoke/user/{user}       revoke every session of a user
//	POST /revoke/company/{company} revoke every session that may act for a company
//
// The store key travels in the query: the signature covers it, and no
// access log ever records a query, so it never lands in a log line.
type StorageService struct {
	store Store
	h     http.Handler
}

// NewStorageService returns the storage service of store; v checks every
// call. Its one option is WithPathPrefix.
func NewStorageService(store Store, v *hmacsig.Verifier, opts ...StorageServiceOption) (*StorageService, error) {
	c, err := newConfig("NewStorageService", opts, StorageServiceOption.storageServiceOption)
	if err != nil {
		return nil, err
	}
	if store == nil || v == nil {
		return nil, errors.New("passport: storage service: store and verifier are required")
	}
	s := &StorageService{store: store}
	mux := http.NewServeMux()
	mux.HandleFunc(c.prefix+"/session", s.session)
	mux.HandleFunc(c.prefix+"/revoke/{kind}/{id}", s.revoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { edge.WriteProblem(w, r, ErrNotFound) })
	require, err := hmacsig.Require(v, hmacsig.RequireContentDigest(http.MethodPut))
	if err != nil {
		return nil, fmt.Errorf("passport: storage service: %w", err)
	}
	s.h = require(mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *StorageService) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

func (s *StorageService) session(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if !validKey(key) {
		edge.WriteProblem(w, r, ErrSessionUnknown)
		return
	}
	switch r.Method {
	case http.MethodGet:
		sess, err := s.store.Get(r.Context(), key)
		if err != nil {
			edge.WriteProblem(w, r, storeError(err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		edge.WriteJSON(w, http.StatusOK, sess)
	case http.MethodPut:
		// decodeJSON reads the body to its end (at most maxSessionBody
		// bytes) before it decodes anything, and the end is where hmacsig
		// checks the signed Content-Digest: a body that is not the signed
		// one fails here, with hmacsig's problem, before the store is
		// touched. Anything else is a bad session.
		var sess Session
		if err := decodeJSON(r.Body, maxSessionBody, &sess); err != nil {
			var p *edge.Problem
			if !errors.As(err, &p) {
				err = ErrSessionInvalid.WithCause(err)
			}
			edge.WriteProblem(w, r, err)
			return
		}
		if err := sess.Validate(); err != nil {
			edge.WriteProblem(w, r, ErrSessionInvalid.WithCause(err))
			return
		}
		if err := s.store.Put(r.Context(), key, sess); err != nil {
			edge.WriteProblem(w, r, storeError(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT")
		edge.WriteProblem(w, r, ErrMethodNotAllowed)
	}
}

func (s *StorageService) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		edge.WriteProblem(w, r, ErrMethodNotAllowed)
		return
	}
	id := r.PathValue("id")
	var err error
	switch r.PathValue("kind") {
	case "session":
		err = s.store.Revoke(r.Context(), id)
	case "user":
		err = s.store.RevokeUser(r.Context(), id)
	case "company":
		err = s.store.RevokeCompany(r.Context(), id)
	default:
		err = ErrNotFound
	}
	if err != nil {
		edge.WriteProblem(w, r, storeError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// storeError keeps the store's problems and turns anything else into 503.
func storeError(err error) error {
	var p *edge.Problem
	if errors.As(err, &p) {
		return err
	}
	return ErrSessionStoreUnavailable.WithCause(err)
}
