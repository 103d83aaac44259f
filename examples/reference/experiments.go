package reference

import (
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/zone/experiment"
)

// WebLayout is the experiment the reference topology runs on the web
// client route (each gateway's own host): half of the users see the
// "compact" layout, by user, so a user keeps it across sessions, devices
// and gateways.
var WebLayout = experiment.Experiment{
	Key:  "webclient-layout",
	Unit: experiment.UnitUser,
	Variants: []experiment.Variant{
		{Name: "classic", Weight: 50},
		{Name: "compact", Weight: 50},
	},
}

// Experiments returns the Set of the reference experiments (WebLayout).
// The authentication service assigns from it (AssignVariants) and the
// gateways count its exposures (GatewayConfig.Experiments); every process
// must hold the same experiments.
func Experiments(opts ...experiment.SetOption) (*experiment.Set, error) {
	return experiment.NewSet([]experiment.Experiment{WebLayout}, opts...)
}

// AssignVariants is the passport.NewIssuer option that signs set's
// variants of each passport's user, session and company into it.
func AssignVariants(set *experiment.Set) passport.IssuerOption {
	return passport.WithVariants(func(s passport.Subject) map[string]string {
		return set.Assign(experiment.Units{User: s.User, Session: s.SessionID, Company: s.CompanyID}).Map()
	})
}
