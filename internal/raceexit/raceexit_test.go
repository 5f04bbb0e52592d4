package raceexit

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	NoSleep()
	goleak.VerifyTestMain(m)
}

// Under -race this test binary was re-executed with the option set; without
// -race nothing was changed.
func TestGORACESetUnderRace(t *testing.T) {
	got := strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms")
	if raceEnabled && !got {
		t.Fatalf("GORACE=%q: NoSleep did not re-execute with atexit_sleep_ms", os.Getenv("GORACE"))
	}
}
