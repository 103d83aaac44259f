// Package geofence keeps each company's data in its region and its
// clients where the company allows them, at the edge.
//
// It owns three guarantees:
//
//   - Residency: every zone has a region, fixed by the operator
//     (NewResidency), and a company may have a residency region, from the
//     directory (zone.Zone.Residency, "residency" in the directory's JSON).
//     A company is never routed to, minted a passport for, or served by a
//     zone outside its region: Residency.Directory wraps each stage's
//     directory (the router's zone.Resolve, the passport gateway, the
//     authentication service), Residency.Middleware checks the zone a stage
//     is about to serve, and Residency.Transport guards every hop to a
//     gateway or backend of a region (canaries, stranglers). A mismatch is
//     a 503 residency_mismatch and a metric; no other region is tried.
//   - Client location: Fence applies a company's PolicyConfig (countries
//     and networks to allow or deny) to the client's country, named by a
//     trusted hop's header (CF-IPCountry, CloudFront-Viewer-Country) or
//     found in a MaxMind Database that reloads when its file changes. A
//     refusal is a 403 location_denied that says nothing of the policy.
//   - Uploads in region: StorageCheck.Check, given to upload.NewClient
//     with upload.WithTargetCheck, refuses a presigned storage URL outside
//     the region of the upload's zone (allowed hosts, and for S3 the region
//     in the host and in X-Amz-Credential) before a byte is sent.
//
// The zone's region and the client's country go on the access log line
// ("region", "client_country"), which tracing turns into span attributes;
// metrics (Observer, implemented by tracing.Instruments) carry only the region
// and the decision, never a company, an address or a country.
//
// The smallest wiring of a cell router:
//
//	res, err := geofence.NewResidency(map[string]geofence.Region{"uk01": "uk", "us01": "us"})
//	dir := res.Directory(cachingDirectory)
//	fence, err := geofence.NewFence(policies, geofence.WithTrust(fromCDN))
//	routed := edge.Chain(detect, resolve, res.Middleware, fence.Middleware)(router) // zone.DetectCompany(), zone.Resolve(dir)
package geofence
