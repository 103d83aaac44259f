package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// span is what the console exporter writes of a span, as much as the test
// reads.
type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	SpanKind    int // 2 server, 3 client
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s span) attr(key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			v, _ := a.Value.Value.(string)
			return v
		}
	}
	return ""
}

// TestTraceFollowsTheRequest runs the topology with -trace and checks that
// a login and a request through the router are each one trace, across the
// bindings: router → gateway → authentication → session storage, and
// router → gateway → cell → session storage for the login.
func TestTraceFollowsTheRequest(t *testing.T) {
	out := &syncbuf.Buffer{}
	tp := start(t, false, func(c *config) { c.trace = out })
	c, _ := tp.login("1", "alice")
	resp, body := do(t, c, http.MethodGet, tp.urls["api"]+"/rest/v1.0/me", map[string]string{"Procore-Company-Id": "1"}, nil)
	decodeEcho(t, resp, body)
	tp.stop()
	require.NoError(t, <-tp.done)
	tp.done <- nil // for the cleanup

	var spans []span
	dec := json.NewDecoder(strings.NewReader(out.String()))
	for {
		var s span
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		spans = append(spans, s)
	}
	server := func(op, method, path string) span {
		t.Helper()
		for _, s := range spans {
			if s.SpanKind == 2 && s.attr("cellgate.operation") == op &&
				s.attr("http.request.method") == method && s.attr("url.path") == path {
				return s
			}
		}
		t.Fatalf("no server span of %s for %s among %d", op, path, len(spans))
		return span{}
	}
	client := func(method, url string) span {
		t.Helper()
		for _, s := range spans {
			if s.SpanKind == 3 && s.attr("http.request.method") == method && s.attr("url.full") == url {
				return s
			}
		}
		t.Fatalf("no client span %s %s among %d", method, url, len(spans))
		return span{}
	}

	me := server("router", http.MethodGet, "/rest/v1.0/me")
	assert.Empty(t, strings.Trim(me.Parent.SpanID, "0"), "the router starts the trace")
	for _, s := range []span{
		server("gateway-us01", http.MethodGet, "/rest/v1.0/me"),
		server("authentication", http.MethodPost, "/passports"),
		server("session-storage", http.MethodGet, "/session"),
		server("cell-us01", http.MethodGet, "/rest/v1.0/me"),
	} {
		assert.Equal(t, me.SpanContext.TraceID, s.SpanContext.TraceID, "%s %s joins the request's trace", s.attr("cellgate.operation"), s.Name)
		assert.NotEmpty(t, strings.Trim(s.Parent.SpanID, "0"), "%s has a parent", s.attr("cellgate.operation"))
		assert.Equal(t, me.attr("cellgate.request_id"), s.attr("cellgate.request_id"), "%s keeps the request ID", s.attr("cellgate.operation"))
	}

	login := server("router", http.MethodPost, "/login")
	for _, s := range []span{
		client(http.MethodPut, "http://sessions.internal/session"),
		server("session-storage", http.MethodPut, "/session"),
	} {
		assert.Equal(t, login.SpanContext.TraceID, s.SpanContext.TraceID, "the cell's session write (%s) joins the login's trace", s.Name)
	}
}
