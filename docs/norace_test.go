//go:build !race

package docs_test

// raceEnabled: see race_test.go.
const raceEnabled = false
