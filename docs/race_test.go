//go:build race

package docs_test

// raceEnabled reports whether this test binary was built with -race: the
// programs the generators build then are too, so that go build reuses the
// packages go test compiled instead of compiling everything again.
const raceEnabled = true
