// Package featureflag evaluates feature flags per company with OpenFeature,
// the vendor-neutral SDK (LaunchDarkly, Flagsmith and others are providers).
// It is apart from package zone so that services without flags never link
// the SDK.
//
// Targeting gives every request an evaluation context whose targeting key
// is its company, and Evaluator lets the cell router decide a canary by
// flag:
//
//	client := openfeature.NewDefaultClient()
//	router, err := zone.NewRouter(gateways,
//		zone.WithFlagEvaluator(featureflag.Evaluator(client)),
//		zone.WithCanary("us01", zone.Canary{Endpoint: next, Percent: 5, Flag: "canary-us01"}))
//	detect, err := zone.DetectCompany()
//	resolve, err := zone.Resolve(dir)
//	handler := edge.Chain(detect, resolve, featureflag.Targeting())(router)
package featureflag
