package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cellgate/cellgate/examples/internal/standin"
	"github.com/cellgate/cellgate/hmacsig"
)

// uploader sends generated bodies three ways to the same MinIO bucket.
type uploader struct {
	s3        *standin.S3 // presigns direct PUTs
	storage   string      // cellgate storage host base URL
	nginx     string      // nginx relay "host:port"
	signer    *hmacsig.Signer
	client    *http.Client
	block     []byte
	storagePG int // cellgate storage process group
}

const (
	viaDirect   = "direct MinIO"
	viaCellgate = "cellgate"
	viaNginx    = "nginx relay"
)

// url returns where one upload of id goes via the given route.
func (u *uploader) url(via, id string) (string, error) {
	switch via {
	case viaCellgate:
		return u.signer.SignURL(http.MethodPut, u.storage+"/rest/v2.1/companies/1/projects/7/uploads/"+id, 15*time.Minute)
	case viaDirect, viaNginx:
		s, err := u.s3.PresignPut("bench/"+id, 0, "", 15*time.Minute)
		if err != nil || via == viaDirect {
			return s, err
		}
		p, err := url.Parse(s)
		if err != nil {
			return "", err
		}
		p.Host = u.nginx // the presign names MinIO's host; nginx sends it as Host
		return p.String(), nil
	}
	return "", fmt.Errorf("unknown route %s", via)
}

// put sends size bytes (block repeated) with an exact length.
func (u *uploader) put(ctx context.Context, rawURL string, size int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, rawURL, &repeater{block: u.block, left: size})
	if err != nil {
		return err
	}
	req.ContentLength = size
	resp, err := u.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		buf := make([]byte, 512)
		n, _ := io.ReadFull(resp.Body, buf)
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(buf[:n])))
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

// run sends n concurrent uploads of size bytes via a route; it returns
// MB/s (10^6 bytes per second) over the wall time of all of them.
func (u *uploader) run(ctx context.Context, via, tag string, n int, size int64) (float64, error) {
	urls := make([]string, n)
	for i := range urls {
		var err error
		// The same object names every round: MinIO overwrites, the disk stays bounded.
		if urls[i], err = u.url(via, fmt.Sprintf("%s-%d", tag, i)); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for _, s := range urls {
		wg.Go(func() { errs <- u.put(ctx, s, size) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, fmt.Errorf("%s upload: %w", via, err)
		}
	}
	return float64(n) * float64(size) / time.Since(start).Seconds() / 1e6, nil
}

// repeater reads block over and over until left bytes are read: a body
// generated in memory, not read from a file.
type repeater struct {
	block []byte
	off   int
	left  int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off = (r.off + c) % len(r.block)
	}
	r.left -= int64(n)
	return n, nil
}

// payload returns n deterministic, incompressible-looking bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
