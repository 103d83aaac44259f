package upload

import (
	"fmt"
	"sync"
)

// retryAfterBusy is the Retry-After, in seconds, of the refusals of
// WithMaxUploads: long enough for an upload in flight to move on.
const retryAfterBusy = "5"

// uploadKey names one upload, or one part of it: what one signed upload URL
// is for.
type uploadKey struct {
	company, project, upload string
	part                     int
}

// inFlight counts the uploads a Handler streams, in all and per company,
// and the uploads themselves. Entries exist only while their count is not
// zero, so it holds at most one per upload in flight.
type inFlight struct {
	maxTotal, maxCompany int

	mu        sync.Mutex
	total     int
	companies map[string]int
	uploads   map[uploadKey]struct{}
}

func newInFlight(maxTotal, maxCompany int) *inFlight {
	return &inFlight{maxTotal: maxTotal, maxCompany: maxCompany,
		companies: make(map[string]int), uploads: make(map[uploadKey]struct{})}
}

// acquire claims a place for the upload p names and returns its release,
// or the problem that refuses it: ErrUploadInProgress, ErrTooManyUploads or
// ErrUploadCapacity.
func (f *inFlight) acquire(p Params) (release func(), err error) {
	k := uploadKey{p.CompanyID, p.ProjectID, p.UploadID, p.PartNumber}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch _, busy := f.uploads[k]; {
	case busy:
		return nil, ErrUploadInProgress
	case f.companies[k.company] >= f.maxCompany:
		return nil, ErrTooManyUploads.WithCause(fmt.Errorf("upload: company at its limit of %d uploads in flight", f.maxCompany))
	case f.total >= f.maxTotal:
		return nil, ErrUploadCapacity.WithCause(fmt.Errorf("upload: at the limit of %d uploads in flight", f.maxTotal))
	}
	f.uploads[k] = struct{}{}
	f.companies[k.company]++
	f.total++
	var once sync.Once
	return func() { once.Do(func() { f.release(k) }) }, nil
}

func (f *inFlight) release(k uploadKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.uploads, k)
	if f.companies[k.company]--; f.companies[k.company] <= 0 {
		delete(f.companies, k.company)
	}
	f.total--
}

// size returns the entries held, for tests: uploads and companies.
func (f *inFlight) size() (uploads, companies int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.uploads), len(f.companies)
}
