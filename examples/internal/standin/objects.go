package standin

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/hmacsig"
	"github.com/cellgate/cellgate/upload"
	"github.com/cellgate/cellgate/zone"
)

// Problems of the object store.
var (
	// ErrObjectInvalid: the object's zone, company, project, name or part
	// number is malformed.
	ErrObjectInvalid = edge.NewProblem(http.StatusBadRequest, "object_invalid", "The object name is not valid.")
	// ErrObjectNotFound: no such object is stored.
	ErrObjectNotFound = edge.NewProblem(http.StatusNotFound, "object_not_found", "There is no such object.")
	// ErrObjectIncomplete: the body ended before its Content-Length; nothing
	// was stored, as S3 and Azure keep nothing of a short PUT.
	ErrObjectIncomplete = edge.NewProblem(http.StatusBadRequest, "object_incomplete", "The body ended before its declared length.")
)

// ObjectPath returns the URL path of an upload's object in the store,
// /objects/{zone}/{company}/{project}/{upload}: the whole upload when
// p.PartNumber is 0, else one part of it (…/parts/{n}). An upload id is
// unique only within its company and project, so both name the object: one
// company's upload never overwrites another's of the same id.
func ObjectPath(zoneName string, p upload.Params) string {
	s := "/objects/" + zoneName + "/" + p.CompanyID + "/" + p.ProjectID + "/" + p.UploadID
	if p.PartNumber > 0 {
		s += "/parts/" + strconv.Itoa(p.PartNumber)
	}
	return s
}

// NewObjectStore returns a stand-in for cloud storage that keeps objects as
// files under dir and answers, like S3, only URLs it presigned itself: PUT
// and GET on ObjectPath, signed with the objects key that v checks.
// A PUT needs a Content-Length, is streamed to a temporary file through one
// pooled buffer, and is kept only when complete; it answers 200 with the
// MD5 of the bytes as a quoted ETag.
func NewObjectStore(dir string, v *hmacsig.Verifier, logger *slog.Logger) (http.Handler, error) {
	if dir == "" || v == nil {
		return nil, errors.New("standin: object store: a directory and a verifier are required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("standin: object store: %w", err)
	}
	s := &objectStore{dir: dir}
	mux := http.NewServeMux()
	for _, p := range []string{
		"/objects/{zone}/{company}/{project}/{object}",
		"/objects/{zone}/{company}/{project}/{object}/parts/{part}",
	} {
		mux.HandleFunc("PUT "+p, s.put)
		mux.HandleFunc("GET "+p, s.get)
	}
	if logger == nil {
		logger = slog.Default()
	}
	log := edge.WithLogger(logger)
	var l links
	chain := edge.Chain(l.add(edge.RequestID()), l.add(edge.AccessLog(log)), l.add(edge.Recover(log)), l.add(hmacsig.Require(v)))
	if l.err != nil {
		return nil, l.err
	}
	return chain(mux), nil
}

type objectStore struct{ dir string }

// file returns the file of the object that r names. Every segment is
// checked against the rules of its kind (zone name, decimal company and
// project ids, upload id), none of which admits '.', '/' or an empty
// segment, so a path can never leave its company's directory.
func (s *objectStore) file(r *http.Request) (string, error) {
	z, company, project := r.PathValue("zone"), r.PathValue("company"), r.PathValue("project")
	obj, part := r.PathValue("object"), r.PathValue("part")
	if !zone.ValidZoneName(z) || !zone.ValidCompanyID(company) || !zone.ValidCompanyID(project) || !upload.ValidUploadID(obj) {
		return "", ErrObjectInvalid
	}
	if part == "" {
		return filepath.Join(s.dir, z, company, project, obj), nil
	}
	n, err := strconv.Atoi(part)
	if err != nil || n < 1 || n > upload.MaxPartNumber || strconv.Itoa(n) != part {
		return "", ErrObjectInvalid
	}
	// Upload ids hold no '.', so "x.parts" never meets an object's name.
	return filepath.Join(s.dir, z, company, project, obj+".parts", part), nil
}

func (s *objectStore) put(w http.ResponseWriter, r *http.Request) {
	file, err := s.file(r)
	switch {
	case err != nil:
		edge.WriteProblem(w, r, err)
		return
	case r.ContentLength < 0:
		edge.WriteProblem(w, r, upload.ErrLengthRequired)
		return
	case r.ContentLength > upload.DefaultMaxSize:
		edge.WriteProblem(w, r, upload.ErrTooLarge)
		return
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".put-*")
	if err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed

	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), r.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != r.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		edge.WriteProblem(w, r, ErrObjectIncomplete.WithCause(err))
		return
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum.Sum(nil))+`"`)
	w.WriteHeader(http.StatusOK)
}

func (s *objectStore) get(w http.ResponseWriter, r *http.Request) {
	file, err := s.file(r)
	if err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		edge.WriteProblem(w, r, ErrObjectNotFound)
		return
	}
	if err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}
