package zone

import "testing"

// A nil directory, as a failed constructor whose error was dropped leaves,
// is refused at construction, never on the first request.
func TestNilDirectoryPanicsAtConstruction(t *testing.T) {
	for name, build := range map[string]func(){
		"Resolve":        func() { Resolve(nil) },
		"BaseURLHandler": func() { BaseURLHandler(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s(nil) did not panic at construction", name)
				}
			}()
			build()
		}()
	}
}
