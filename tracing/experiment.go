package tracing

import "context"

// ExperimentExposure counts one request exposed to variant of experiment;
// it implements zone/experiment's Observer, which passes only configured
// experiment keys and variant names, never a value from the request.
func (m *Instruments) ExperimentExposure(ctx context.Context, experiment, variant string) {
	if m.exposures.Enabled(ctx) {
		m.exposures.Add(ctx, 1, m.opts(two(ExperimentKey, experiment, VariantKey, variant)).add...)
	}
}
