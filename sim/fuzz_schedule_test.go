package sim_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/drvsim/drvsim/sim"
)

// FuzzParseSchedule: whatever the text of a schedule (DRVSIM_SCHEDULE,
// drvsim explore -schedule), ParseSchedule answers quickly and in bounded
// memory: an error that wraps ErrBadSchedule and is one line, or a
// schedule of 1 to MaxScheduleLen task names that FormatSchedule renders
// in the canonical form, which parses back to the same schedule. `go test`
// runs the seeds below and testdata/fuzz/FuzzParseSchedule;
// docs/testing.md says how to fuzz it.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{
		"reader*3,unplug,reader", " a*2 , b ,a#2* 3", "", ",", "a,,b", "a*", "*3", "a*0", "a*-1", "a*+2",
		"a*1048576", "a*1048577", "a*99999999999999999999", "a*1,a*1", "a#2", "a#02", "a#1", "a#x", "a#2#3",
		"t\x00", "t\u202e", "\xff", "a b", " a", "a'b", strings.Repeat("a,", 50) + "b*7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sch, err := sim.ParseSchedule(text)
		if err != nil {
			if !errors.Is(err, sim.ErrBadSchedule) {
				t.Fatalf("ParseSchedule(%q): %v does not wrap ErrBadSchedule", text, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("ParseSchedule(%q): the error is not one line: %q", text, err)
			}
			return
		}
		if len(sch) < 1 || len(sch) > sim.MaxScheduleLen {
			t.Fatalf("ParseSchedule(%q): %d steps", text, len(sch))
		}
		canon := sim.FormatSchedule(sch)
		back, err := sim.ParseSchedule(canon)
		if err != nil {
			t.Fatalf("ParseSchedule(%q) = %d steps, formatted %q, which does not parse: %v", text, len(sch), canon, err)
		}
		if !slices.Equal(back, sch) {
			t.Fatalf("ParseSchedule(%q) does not round-trip through %q", text, canon)
		}
		if again := sim.FormatSchedule(back); again != canon {
			t.Fatalf("the canonical form %q formats again as %q", canon, again)
		}
	})
}
