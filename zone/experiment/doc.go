// Package experiment runs A/B experiments at the edge: a sticky variant
// per user, session or company, assigned deterministically with OpenFeature
// flagd's "fractional" algorithm (MurmurHash3 of the experiment key and the
// unit, into integer weights), so every gateway, every process and a
// backend evaluating the same flag with flagd agree without sharing state.
//
// Cells can trust the variants: the authentication service assigns them
// when it mints a passport and signs them in its "variants" claim
// (passport.WithVariants fed by Set.Assign), and the gateway forwards them
// in the internal header Cellgate-Experiments, which the edge strips from
// clients like every Cellgate- header. Set.Middleware, behind the gateway,
// puts them in the request context (VariantsFromContext) for later stages
// such as a response cache, whose key must hold Variants.String, and counts
// exposures per experiment and variant (an Observer such as tracing.Instruments
// turns them into a metric). CheckSampleRatio tests counts against the
// weights (a chi-square sample ratio mismatch check).
//
//	set, err := experiment.NewSet([]experiment.Experiment{{
//		Key: "checkout", Unit: experiment.UnitUser,
//		Variants: []experiment.Variant{{Name: "control", Weight: 50}, {Name: "treatment", Weight: 50}},
//	}}, experiment.WithObserver(metrics))
//	issuer, err := passport.NewIssuer(iss, key, passport.WithVariants(func(s passport.Subject) map[string]string {
//		return set.Assign(experiment.Units{User: s.User, Session: s.SessionID, Company: s.CompanyID}).Map()
//	}))
//	api := edge.Chain(detect, gateway.Middleware, set.Middleware)(cell) // detect from zone.DetectCompany()
package experiment
