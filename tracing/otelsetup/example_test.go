package otelsetup_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/tracing"
	"github.com/cellgate/cellgate/tracing/otelsetup"
)

// Wiring a service: exporters from the OTEL_* environment, plus the console
// when asked for on the command line.
func ExampleSetup() {
	opts := []otelsetup.SetupOption{otelsetup.WithServiceName("gateway")}
	if len(os.Args) > 1 && os.Args[1] == "-trace" {
		opts = append(opts, otelsetup.WithConsole(os.Stdout))
	}
	shutdown, err := otelsetup.Setup(context.Background(), opts...)
	if err != nil {
		log.Fatal(err)
	}
	defer shutdown(context.Background()) // flushes what is pending

	span, err := tracing.Middleware("gateway", tracing.Root())
	if err != nil {
		log.Fatal(err)
	}
	out, err := tracing.Transport(edge.NewTransport())
	if err != nil {
		log.Fatal(err)
	}
	h := span(http.NewServeMux())
	client := &http.Client{Transport: out}
	_, _ = h, client
	// Output:
}
