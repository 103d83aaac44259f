package standin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// Problems of the cell's login.
var (
	// ErrUserInvalid: the login names no user, or not a plausible one.
	ErrUserInvalid = edge.NewProblem(http.StatusBadRequest, "user_invalid",
		"Name a user: 1 to 64 letters, digits, '.', '_', '-' or '@'.")
)

// UploadsPattern is the cell's route that hands out a signed upload URL.
const UploadsPattern = "POST /rest/v1.0/companies/{companyId}/projects/{projectId}/uploads"

// CellConfig configures a stand-in cell.
type CellConfig struct {
	// SummaryDelay is how long SummaryPattern takes to answer; 300 ms
	// when zero.
	SummaryDelay time.Duration
	// Service names the backend in every answer: "cell", or "replacement"
	// for the strangler's new backend.
	Service string
	// Zone is the cell's zone, the audience of the passports it accepts.
	Zone string
	// Verifier checks passports; required.
	Verifier *passport.Verifier
	// Sessions, when set, enables POST /login, which stores sessions there
	// (a passport.StoreClient of the session storage API).
	Sessions passport.Store
	// SessionLifetime is how long a login lasts; 8 hours when zero.
	SessionLifetime time.Duration
	// Cookie names the session cookie; passport.DefaultCookie when empty.
	Cookie string
	// SecureCookie marks the cookie Secure, for a gateway served over TLS.
	// Without it the cookie is Secure when the login reached the edge over
	// TLS: a trusted hop (Trust) says X-Forwarded-Proto: https.
	SecureCookie bool
	// Trust marks the gateway's hop, whose Cellgate-Company-Id names the
	// company of a login.
	Trust edge.Trust
	// UploadSigner, when set, enables UploadsPattern: it signs, with the
	// upload key, a PUT to UploadStorage (the storage host's base URL, such
	// as "http://127.0.0.1:8084") for the passport's company.
	UploadSigner  *hmacsig.Signer
	UploadStorage string
	// UploadLifetime is how long a handed-out upload URL is valid; 15
	// minutes when zero.
	UploadLifetime time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// UploadURL is the cell's answer on UploadsPattern.
type UploadURL struct {
	// URL is the signed PUT URL on the storage host.
	URL string `json:"upload_url"`
}

// Echo is the cell's answer to any request that carries a valid passport.
type Echo struct {
	Service string           `json:"service"`
	Zone    string           `json:"zone"`
	Method  string           `json:"method"`
	Path    string           `json:"path"`
	Claims  *passport.Claims `json:"claims"`
	// Experiments is the Cellgate-Experiments header the cell received:
	// the passport's variants as the gateway forwarded them.
	Experiments string `json:"experiments,omitempty"`
	// Answer numbers the cell's answers on SummaryPattern, from 1: a
	// burst that the gateway coalesced shows one number.
	Answer int64 `json:"answer,omitempty"`
}

// SummaryPattern is the cell's slow route: it answers after
// CellConfig.SummaryDelay, numbering its answers (Echo.Answer), so that a
// burst coalesced at the gateway shows the cell answering once.
const SummaryPattern = "GET /rest/v1.0/projects/{projectId}/summary"

// Login is the cell's answer to a login. The session token travels in the
// cookie only.
type Login struct {
	SessionID string    `json:"session_id"`
	User      string    `json:"user"`
	Companies []string  `json:"companies"`
	Expires   time.Time `json:"expires"`
}

// NewCell returns a stand-in cell: every request needs a passport and is
// answered with an Echo; POST /login (form field "user") signs in for the
// company the request names.
func NewCell(cfg CellConfig) (http.Handler, error) {
	if cfg.Verifier == nil || cfg.Zone == "" {
		return nil, errors.New("standin: cell: a zone and a passport verifier are required")
	}
	if cfg.Service == "" {
		cfg.Service = "cell"
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.Cookie == "" {
		cfg.Cookie = passport.DefaultCookie
	}
	if cfg.Trust == nil {
		cfg.Trust = edge.TrustNone
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SummaryDelay <= 0 {
		cfg.SummaryDelay = 300 * time.Millisecond
	}
	if cfg.UploadLifetime <= 0 {
		cfg.UploadLifetime = 15 * time.Minute
	}
	if (cfg.UploadSigner == nil) != (cfg.UploadStorage == "") {
		return nil, errors.New("standin: cell: an upload signer and an upload storage URL go together")
	}
	mux := http.NewServeMux()
	if cfg.UploadSigner != nil {
		mux.Handle(UploadsPattern, cfg.Verifier.Middleware(uploads(cfg)))
	}
	if cfg.Sessions != nil {
		detect, err := zone.DetectCompany(zone.WithTrust(cfg.Trust))
		if err != nil {
			return nil, fmt.Errorf("standin: cell: %w", err)
		}
		mux.Handle("POST /login", detect(login(cfg)))
	}
	var answers atomic.Int64
	mux.Handle(SummaryPattern, cfg.Verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := answers.Add(1)
		select {
		case <-time.After(cfg.SummaryDelay):
		case <-r.Context().Done():
			return
		}
		// For this session only: a coalescing gateway shares it among
		// the session's own requests, never with another's.
		w.Header().Set("Cache-Control", "private")
		edge.WriteJSON(w, http.StatusOK, Echo{
			Service: cfg.Service, Zone: cfg.Zone, Method: r.Method, Path: r.URL.Path,
			Claims: passport.ClaimsFromContext(r.Context()), Answer: n,
		})
	})))
	mux.Handle("/", cfg.Verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteJSON(w, http.StatusOK, Echo{
			Service: cfg.Service, Zone: cfg.Zone, Method: r.Method, Path: r.URL.Path,
			Claims:      passport.ClaimsFromContext(r.Context()),
			Experiments: r.Header.Get(passport.HeaderVariants),
		})
	})))
	// A cell continues the gateway's trace and request ID, so the login's
	// call to session storage is part of the request that caused it.
	var l links
	chain := edge.Chain(
		l.add(tracing.Middleware(cfg.Service+"-"+cfg.Zone)),
		l.add(edge.RequestID(edge.WithTrust(cfg.Trust))),
		tracing.Route,
	)
	if l.err != nil {
		return nil, l.err
	}
	return chain(mux), nil
}

func login(cfg CellConfig) http.HandlerFunc {
	opts := []passport.SignInOption{
		passport.WithCookie(cfg.Cookie), passport.WithSessionLifetime(cfg.SessionLifetime), passport.WithClock(cfg.Now),
	}
	insecure := append(opts[:len(opts):len(opts)], passport.WithInsecureCookie())
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		user := r.PostFormValue("user")
		if !validUser(user) {
			edge.WriteProblem(w, r, ErrUserInvalid)
			return
		}
		// Secure when the client's hop is TLS (or configured so): a
		// plain-http development front could never send it back.
		signIn := insecure
		if cfg.SecureCookie || overTLS(r, cfg.Trust) {
			signIn = opts
		}
		s, err := passport.SignIn(r.Context(), w, cfg.Sessions,
			passport.Session{User: user, Companies: []string{zone.CompanyFromContext(r.Context())}}, signIn...)
		if err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		edge.WriteJSON(w, http.StatusCreated, Login{SessionID: s.ID, User: s.User, Companies: s.Companies, Expires: s.Expires})
	}
}

// overTLS reports whether a trusted hop says the client used https.
func overTLS(r *http.Request, trust edge.Trust) bool {
	return r.TLS != nil || trust(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// uploads hands out a signed PUT URL on the storage host for a new upload
// of the passport's company, so a browser can send a file there without
// holding any key.
func uploads(cfg CellConfig) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		company, project := r.PathValue("companyId"), r.PathValue("projectId")
		claims := passport.ClaimsFromContext(r.Context())
		if claims == nil || claims.CompanyID == "" || claims.CompanyID != company {
			edge.WriteProblem(w, r, passport.ErrCompanyForbidden)
			return
		}
		if !zone.ValidCompanyID(project) { // upload's rule for a project id
			edge.WriteProblem(w, r, upload.ErrProjectInvalid)
			return
		}
		var id [12]byte
		rand.Read(id[:])
		u := strings.TrimSuffix(cfg.UploadStorage, "/") + "/rest/v2.1/companies/" + url.PathEscape(company) +
			"/projects/" + project + "/uploads/web-" + hex.EncodeToString(id[:])
		signed, err := cfg.UploadSigner.SignURL(http.MethodPut, u, cfg.UploadLifetime)
		if err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		edge.WriteJSON(w, http.StatusCreated, UploadURL{URL: signed})
	}
}

// validUser admits plausible user names; "." and ".." never, because no
// signed URL can name them (the session could not be revoked by user).
func validUser(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@'
		if !ok {
			return false
		}
	}
	return true
}
