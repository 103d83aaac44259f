package tracing

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MeterName is the instrumentation scope of cellgate's instruments.
const MeterName = "github.com/cellgate/cellgate"

// Attribute keys of cellgate's metrics. Each has few values: a zone, an
// outcome, a problem code; never a company, a user, a path or a secret.
const (
	// ResultKey is how a cache lookup was answered: hit, negative_hit,
	// miss, stale, error.
	ResultKey = attribute.Key("cellgate.result")
	// OutcomeKey is "ok", or the problem code of a refusal or failure.
	OutcomeKey = attribute.Key("cellgate.outcome")
	// CacheEventKey is an event of zone/cache: coalesced, released,
	// cut_loose, leader_reelected, hit_for_miss, hit, miss, stale, stored
	// or purged.
	CacheEventKey = attribute.Key("cellgate.cache.event")
	// DecisionKey is a rate limit decision (allowed or limited) or a
	// geofence decision (zone/geofence's Decision constants).
	DecisionKey = attribute.Key("cellgate.decision")
	// RegionKey is a residency region, such as "uk" (zone/geofence).
	RegionKey = attribute.Key("cellgate.region")
	// RevocationKindKey is what a revocation notice covers: session,
	// user, company or all.
	RevocationKindKey = attribute.Key("cellgate.revocation.kind")
	// DirectoryKey names a zone directory cache, for the entries gauge.
	DirectoryKey = attribute.Key("cellgate.directory")
	// ExperimentKey is an experiment's configured key.
	ExperimentKey = attribute.Key("cellgate.experiment")
	// VariantKey is one of a configured experiment's variant names.
	VariantKey = attribute.Key("cellgate.experiment.variant")
)

// Instruments holds cellgate's metric instruments. The packages that may not
// import OpenTelemetry (zone, zone/ratelimit, passport, hmacsig, and edge,
// which imports only the standard library) each declare a small observer
// interface of standard types; Instruments implements every one of them, so one
// value is handed to all:
//
//	m, err := tracing.NewInstruments()                     // the global meter provider
//	dir, err := zone.NewCachingDirectory(upstream, zone.WithDirectoryObserver(m))
//	v, err := hmacsig.NewVerifier(keys, hmacsig.WithObserver(m))
//	gw, err := passport.NewGateway(z, dir, authURL, rt, passport.WithObserver(m))
//	limit, err := ratelimit.New(10, 20, ratelimit.WithObserver(m)) // or redisrate.WithObserver(m)
//	set, err := experiment.NewSet(exps, experiment.WithObserver(m))
//	fence, err := geofence.NewFence(policies, geofence.WithObserver(m))
//	h, err := upload.NewHandler(fus, upload.WithObserver(m))
//	edge.SetProblemObserver(m.Problem)
//
// HTTP server and client durations are otelhttp's (Middleware, Transport);
// Instruments records only what cellgate alone knows. The instruments, with
// the names a Prometheus exporter gives them:
//
//	cellgate.zone.directory.lookups        {lookup}  cellgate.result                 cellgate_zone_directory_lookups_total
//	cellgate.zone.directory.call.duration  s         cellgate.outcome (ok, error)    cellgate_zone_directory_call_duration_seconds
//	cellgate.zone.directory.entries        {entry}   cellgate.directory              cellgate_zone_directory_entries
//	cellgate.passport.cache.lookups        {lookup}  cellgate.zone, cellgate.result  cellgate_passport_cache_lookups_total
//	cellgate.passport.mint.duration        s         cellgate.zone, cellgate.outcome cellgate_passport_mint_duration_seconds
//	cellgate.passport.rejections           {request} cellgate.problem                cellgate_passport_rejections_total
//	cellgate.passport.revocation.notices   {notice}  cellgate.revocation.kind        cellgate_passport_revocation_notices_total
//	cellgate.passport.revocation.lag       s         (none)                          cellgate_passport_revocation_lag_seconds
//	cellgate.signature.verifications       {request} cellgate.outcome                cellgate_signature_verifications_total
//	cellgate.ratelimit.decisions           {request} cellgate.decision               cellgate_ratelimit_decisions_total
//	cellgate.geofence.decisions            {decision} cellgate.region, cellgate.decision cellgate_geofence_decisions_total
//	cellgate.problems                      {problem} cellgate.problem                cellgate_problems_total
//	cellgate.experiment.exposures          {request} cellgate.experiment, cellgate.experiment.variant cellgate_experiment_exposures_total
//	cellgate.upload.bytes                  By        cellgate.zone, cellgate.outcome cellgate_upload_bytes_total
//	cellgate.upload.duration               s         cellgate.zone, cellgate.outcome cellgate_upload_duration_seconds
//	cellgate.upload.active                 {upload}  cellgate.zone                   cellgate_upload_active
//
// The mint histogram counts mints too (its _count), as the upload duration
// counts uploads. A method of a disabled instrument (the no-op provider, or
// the global one before otelsetup installs one) returns at once, without
// allocating; with an SDK, the attribute set of each (zone, outcome) pair is
// built once and reused.
type Instruments struct {
	meter metric.Meter

	dirLookups    metric.Int64Counter
	dirCalls      metric.Float64Histogram
	dirEntries    metric.Int64ObservableGauge
	passCache     metric.Int64Counter
	passMints     metric.Float64Histogram
	passRejected  metric.Int64Counter
	revocations   metric.Int64Counter
	revocationLag metric.Float64Histogram
	signatures    metric.Int64Counter
	rateLimits    metric.Int64Counter
	geofence      metric.Int64Counter
	cacheEvents   metric.Int64Counter
	problems      metric.Int64Counter
	exposures     metric.Int64Counter
	uploadBytes   metric.Int64Counter
	uploadTime    metric.Float64Histogram
	uploadsActive metric.Int64UpDownCounter

	mu    sync.Mutex                           // serialises writers of sets
	sets  atomic.Pointer[map[attrKey]*options] // copy-on-write: read without a lock
	entMu sync.Mutex
	ents  map[string]func() int // directory name → its entry count
}

// attrKey names one attribute set: up to two attributes.
type attrKey struct {
	k1, v1, k2, v2 string
}

// options are the measurement options of one attribute set, built once.
type options struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs []metric.ObserveOption
}

var (
	durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	uploadBuckets   = []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}
)

// NewInstruments creates cellgate's instruments on the meter provider of
// WithMeterProvider, the global one by default. Its one option is
// WithMeterProvider; a nil option is an error.
func NewInstruments(opts ...InstrumentsOption) (*Instruments, error) {
	c, err := newConfig("NewInstruments", opts, InstrumentsOption.instrumentsOption)
	if err != nil {
		return nil, err
	}
	mp := c.meters
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := &Instruments{meter: mp.Meter(MeterName), ents: map[string]func() int{}}
	m.sets.Store(&map[attrKey]*options{})
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		i, err := m.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	histogram := func(name, desc string, buckets []float64) metric.Float64Histogram {
		i, err := m.meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return i
	}
	m.dirLookups = counter("cellgate.zone.directory.lookups", "{lookup}", "Lookups of a caching zone directory, by result.")
	m.dirCalls = histogram("cellgate.zone.directory.call.duration", "Duration of calls of the upstream zone directory.", durationBuckets)
	m.passCache = counter("cellgate.passport.cache.lookups", "{lookup}", "Lookups of the gateway's passport cache, by zone and result.")
	m.passMints = histogram("cellgate.passport.mint.duration", "Duration of the gateway's calls of the authentication service for a passport, by zone and outcome.", durationBuckets)
	m.passRejected = counter("cellgate.passport.rejections", "{request}", "Requests refused for their passport, by problem code.")
	m.revocations = counter("cellgate.passport.revocation.notices", "{notice}", "Revocation notices received by gateways, by kind.")
	m.revocationLag = histogram("cellgate.passport.revocation.lag", "Time from a revocation's announcement to a gateway receiving its notice, for notices that carry it.", durationBuckets)
	m.signatures = counter("cellgate.signature.verifications", "{request}", "Verifications of signed URLs, by outcome.")
	m.rateLimits = counter("cellgate.ratelimit.decisions", "{request}", "Rate limit decisions, by decision.")
	m.geofence = counter("cellgate.geofence.decisions", "{decision}", "Residency, client location and upload region decisions, by region and decision.")
	m.cacheEvents = counter("cellgate.cache.events", "{event}", "Events of request coalescing and the response cache (zone/cache), by event.")
	m.problems = counter("cellgate.problems", "{problem}", "Problem responses written, by problem code.")
	m.exposures = counter("cellgate.experiment.exposures", "{request}", "Requests exposed to an experiment's variant, by experiment and variant.")
	m.uploadBytes = counter("cellgate.upload.bytes", "By", "Bytes of upload bodies streamed to storage, by zone and outcome.")
	m.uploadTime = histogram("cellgate.upload.duration", "Duration of uploads, by zone and outcome.", uploadBuckets)
	m.uploadsActive, err = m.meter.Int64UpDownCounter("cellgate.upload.active", metric.WithUnit("{upload}"),
		metric.WithDescription("Uploads in flight, by zone."))
	errs = append(errs, err)
	m.dirEntries, err = m.meter.Int64ObservableGauge("cellgate.zone.directory.entries", metric.WithUnit("{entry}"),
		metric.WithDescription("Companies held by a caching zone directory, known and unknown."),
		metric.WithInt64Callback(m.observeEntries))
	errs = append(errs, err)
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("tracing: metrics: %w", err)
		}
	}
	return m, nil
}

// opts returns the measurement options of the attribute set k names.
func (m *Instruments) opts(k attrKey) *options {
	if o, ok := (*m.sets.Load())[k]; ok {
		return o
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.sets.Load()
	if o, ok := old[k]; ok {
		return o
	}
	kv := []attribute.KeyValue{attribute.String(k.k1, k.v1)}
	if k.k2 != "" {
		kv = append(kv, attribute.String(k.k2, k.v2))
	}
	set := metric.WithAttributeSet(attribute.NewSet(kv...))
	o := &options{add: []metric.AddOption{set}, rec: []metric.RecordOption{set}, obs: []metric.ObserveOption{set}}
	next := make(map[attrKey]*options, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = o
	m.sets.Store(&next)
	return o
}

func one(k attribute.Key, v string) attrKey { return attrKey{k1: string(k), v1: v} }

func two(k1 attribute.Key, v1 string, k2 attribute.Key, v2 string) attrKey {
	return attrKey{string(k1), v1, string(k2), v2}
}

func outcome(failed bool) string {
	if failed {
		return "error"
	}
	return "ok"
}

// DirectoryLookup counts one lookup of a zone.CachingDirectory by result;
// it implements zone.DirectoryObserver.
func (m *Instruments) DirectoryLookup(ctx context.Context, result string) {
	if m.dirLookups.Enabled(ctx) {
		m.dirLookups.Add(ctx, 1, m.opts(one(ResultKey, result)).add...)
	}
}

// DirectoryCall records the duration of one upstream directory call; it
// implements zone.DirectoryObserver.
func (m *Instruments) DirectoryCall(ctx context.Context, d time.Duration, failed bool) {
	if m.dirCalls.Enabled(ctx) {
		m.dirCalls.Record(ctx, d.Seconds(), m.opts(one(OutcomeKey, outcome(failed))).rec...)
	}
}

// ObserveDirectoryEntries reports entries() (zone.CachingDirectory.Len) as
// the cellgate.zone.directory.entries gauge of the directory called name,
// at every collection. A second call for the same name replaces the first.
func (m *Instruments) ObserveDirectoryEntries(name string, entries func() int) {
	m.entMu.Lock()
	defer m.entMu.Unlock()
	m.ents[name] = entries
}

func (m *Instruments) observeEntries(_ context.Context, o metric.Int64Observer) error {
	m.entMu.Lock()
	defer m.entMu.Unlock()
	for name, n := range m.ents {
		o.Observe(int64(n()), m.opts(one(DirectoryKey, name)).obs...)
	}
	return nil
}

// PassportCache counts one lookup of a passport.Gateway's cache; it
// implements passport.Observer.
func (m *Instruments) PassportCache(ctx context.Context, zone string, hit bool) {
	if !m.passCache.Enabled(ctx) {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.passCache.Add(ctx, 1, m.opts(two(ZoneKey, zone, ResultKey, result)).add...)
}

// PassportMint records one call of the authentication service for a
// passport; it implements passport.Observer.
func (m *Instruments) PassportMint(ctx context.Context, zone string, d time.Duration, outcome string) {
	if m.passMints.Enabled(ctx) {
		m.passMints.Record(ctx, d.Seconds(), m.opts(two(ZoneKey, zone, OutcomeKey, outcome)).rec...)
	}
}

// PassportRejected counts one request refused for its passport; it
// implements passport.Observer.
func (m *Instruments) PassportRejected(ctx context.Context, code string) {
	if m.passRejected.Enabled(ctx) {
		m.passRejected.Add(ctx, 1, m.opts(one(ProblemKey, code)).add...)
	}
}

// RevocationNotice counts one revocation notice; it implements
// passport.Observer.
func (m *Instruments) RevocationNotice(ctx context.Context, kind string) {
	if m.revocations.Enabled(ctx) {
		m.revocations.Add(ctx, 1, m.opts(one(RevocationKindKey, kind)).add...)
	}
}

// RevocationLag records how late a revocation notice arrived; it
// implements passport.Observer.
func (m *Instruments) RevocationLag(ctx context.Context, lag time.Duration) {
	if m.revocationLag.Enabled(ctx) {
		m.revocationLag.Record(ctx, lag.Seconds())
	}
}

// SignatureVerified counts one verification of a signed URL; it implements
// hmacsig.Observer.
func (m *Instruments) SignatureVerified(ctx context.Context, outcome string) {
	if m.signatures.Enabled(ctx) {
		m.signatures.Add(ctx, 1, m.opts(one(OutcomeKey, outcome)).add...)
	}
}

// RateLimitDecision counts one rate limit decision; it implements
// ratelimit.Observer.
func (m *Instruments) RateLimitDecision(ctx context.Context, decision string) {
	if m.rateLimits.Enabled(ctx) {
		m.rateLimits.Add(ctx, 1, m.opts(one(DecisionKey, decision)).add...)
	}
}

// GeofenceDecision counts one residency, location or upload decision; it
// implements geofence.Observer. region is "" where none applies.
func (m *Instruments) GeofenceDecision(ctx context.Context, region, decision string) {
	if !m.geofence.Enabled(ctx) {
		return
	}
	if region == "" {
		m.geofence.Add(ctx, 1, m.opts(one(DecisionKey, decision)).add...)
		return
	}
	m.geofence.Add(ctx, 1, m.opts(two(RegionKey, region, DecisionKey, decision)).add...)
}

// CacheEvent counts one event of zone/cache; it implements cache.Observer.
func (m *Instruments) CacheEvent(ctx context.Context, event string) {
	if m.cacheEvents.Enabled(ctx) {
		m.cacheEvents.Add(ctx, 1, m.opts(one(CacheEventKey, event)).add...)
	}
}

// Problem counts one problem response by code. Install it with
// edge.SetProblemObserver(m.Problem); the status is implied by the code.
func (m *Instruments) Problem(ctx context.Context, _ int, code string) {
	if m.problems.Enabled(ctx) {
		m.problems.Add(ctx, 1, m.opts(one(ProblemKey, code)).add...)
	}
}

// UploadsObserved reports whether the upload instruments record anything;
// it implements upload.Observer.
func (m *Instruments) UploadsObserved(ctx context.Context) bool {
	return m.uploadsActive.Enabled(ctx) || m.uploadTime.Enabled(ctx)
}

// UploadStarted counts one more upload in flight in zone; it implements
// upload.Observer.
func (m *Instruments) UploadStarted(ctx context.Context, zone string) {
	if m.uploadsActive.Enabled(ctx) {
		m.uploadsActive.Add(ctx, 1, m.opts(one(ZoneKey, zone)).add...)
	}
}

// UploadFinished records an upload of zone that ended with outcome ("ok"
// or a problem code) after d, having streamed n bytes, and counts one
// upload fewer in flight; it implements upload.Observer.
func (m *Instruments) UploadFinished(ctx context.Context, zone string, n int64, d time.Duration, outcome string) {
	if m.uploadsActive.Enabled(ctx) {
		m.uploadsActive.Add(ctx, -1, m.opts(one(ZoneKey, zone)).add...)
	}
	if !m.uploadTime.Enabled(ctx) {
		return
	}
	o := m.opts(two(ZoneKey, zone, OutcomeKey, outcome))
	m.uploadTime.Record(ctx, d.Seconds(), o.rec...)
	m.uploadBytes.Add(ctx, n, o.add...)
}
