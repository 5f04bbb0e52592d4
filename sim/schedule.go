package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A schedule is the task chosen at each schedule point of a run (Result.
// Schedule, Config.Replay). Its text form, which DRVSIM_SCHEDULE and
// `drvsim explore -schedule` take, is run-length encoded: task names
// separated by commas, "name*N" for N in a row ("reader*3,unplug,reader").
// Every task name the Sim creates survives the round trip (Go refuses the
// others), so FormatSchedule and ParseSchedule are inverses on schedules of
// real runs.

// MaxScheduleLen bounds the length of a schedule, expanded: ParseSchedule
// refuses longer ones before expanding anything, and Config.Replay may
// not be longer.
const MaxScheduleLen = 1 << 20

// ErrBadSchedule is wrapped by every error of ParseSchedule (the kernel
// would say -EINVAL).
var ErrBadSchedule = errors.New("bad schedule")

// FormatSchedule renders a schedule as DRVSIM_SCHEDULE expects it,
// collapsing runs: "reader*3,unplug".
func FormatSchedule(sch []string) string {
	var b strings.Builder
	for i := 0; i < len(sch); {
		j := i + 1
		for j < len(sch) && sch[j] == sch[i] {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sch[i])
		if j-i > 1 {
			b.WriteByte('*')
			b.WriteString(strconv.Itoa(j - i))
		}
		i = j
	}
	return b.String()
}

// ParseSchedule is the inverse of FormatSchedule. Spaces around names are
// ignored. It checks the whole text, every name and every repeat count,
// and that the schedule has at most MaxScheduleLen entries, before it
// expands anything; errors wrap ErrBadSchedule.
func ParseSchedule(text string) ([]string, error) {
	type run struct {
		name string
		n    int
	}
	parts := strings.Split(text, ",")
	if len(parts) > MaxScheduleLen {
		return nil, fmt.Errorf("%w: more than %d entries", ErrBadSchedule, MaxScheduleLen)
	}
	runs := make([]run, 0, len(parts))
	total := 0
	for i, p := range parts {
		p = strings.TrimSpace(p)
		name, count, repeated := strings.Cut(p, "*")
		name = strings.TrimSpace(name)
		n := 1
		if repeated {
			c, err := strconv.Atoi(strings.TrimSpace(count))
			if err != nil || c < 1 || c > MaxScheduleLen {
				return nil, fmt.Errorf("%w: entry %d (%q): the repeat count must be a number from 1 to %d", ErrBadSchedule, i+1, p, MaxScheduleLen)
			}
			n = c
		}
		if why := checkScheduleName(name); why != "" {
			return nil, fmt.Errorf("%w: entry %d (%q): not a task name: %s", ErrBadSchedule, i+1, p, why)
		}
		if total += n; total > MaxScheduleLen {
			return nil, fmt.Errorf("%w: longer than %d steps", ErrBadSchedule, MaxScheduleLen)
		}
		runs = append(runs, run{name, n})
	}
	out := make([]string, 0, total)
	for _, r := range runs {
		for range r.n {
			out = append(out, r.name)
		}
	}
	return out, nil
}

// checkScheduleName is checkTaskName for the names a schedule holds: those
// the Sim made unique carry a "#N" suffix.
func checkScheduleName(name string) string {
	base := name
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 2 || name[i+1] == '0' || name[i+1] == '+' {
			return "'#' must end it, followed by a number from 2 (the Sim's suffix for a repeated name)"
		}
		base = name[:i]
	}
	return checkTaskName(base)
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and _-.,*#/:@%+= (task names never hold a quote).
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,*#/:@%+=", r)) {
			return "'" + s + "'"
		}
	}
	return s
}
