package docs_test

import (
	"fmt"
)

// pm.md: excerpts of drvsim demo suspend-resume and runtime-pm, of the pm
// lesson's transcript and of two explorations, all kept current by
// cmd/drvsim's golden tests.
func init() {
	generators["pm-sleep-order"] = demoSections([]string{"demo", "suspend-resume"}, "1.", "3.")
	generators["pm-sleep-resume"] = demoSections([]string{"demo", "suspend-resume"}, "8.", "9.")
	generators["pm-sleep-held-off"] = demoSections([]string{"demo", "suspend-resume"}, "6.")
	generators["pm-sleep-unwind"] = demoSections([]string{"demo", "suspend-resume"}, "11.")
	generators["pm-runtime-probe"] = demoSections([]string{"demo", "runtime-pm"}, "1.", "2.")
	generators["pm-runtime-autosuspend"] = demoSections([]string{"demo", "runtime-pm"}, "3.")
	generators["pm-runtime-get"] = demoSections([]string{"demo", "runtime-pm"}, "4.")
	generators["pm-runtime-underflow"] = demoSections([]string{"demo", "runtime-pm"}, "6.")
	generators["pm-runtime-unbind"] = demoSections([]string{"demo", "runtime-pm"}, "7.")
	generators["pm-lesson-autosuspend"] = pmLessonAutosuspend
	generators["pm-explore-ioctl"] = pmExploreIoctl
	generators["pm-explore-resume"] = pmExploreResume
}

// demoSections picks the numbered sections of a demo's text output.
func demoSections(args []string, sections ...string) generator {
	return func() (string, error) {
		out, err := cliOutput(args...)
		if err != nil {
			return "", err
		}
		x := newExcerpt(out)
		for _, s := range sections {
			x = x.section(s)
		}
		return x.text()
	}
}

// pmLessonAutosuspend: the lesson's first steps, from the plug to the
// autosuspend, as the shell shows them.
func pmLessonAutosuspend() (string, error) {
	out, err := fileText("../cmd/drvsim/testdata/shell-pm-lesson.golden")()
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("drvsim> runtime status 1-1", "virtual time: 2s").
		line("drvsim> trace --brief").line("pm_runtime_allow").
		span("call_timer_fn: suspend_timer.1-1", "rpm_return_int /sys/devices/usb1/1-1: rpm_suspend ret=0").text()
}

// pmExploreIoctl: the broken sensor driver's exploration, its report and
// the end of the failing run's trace.
func pmExploreIoctl() (string, error) {
	out, status, err := cliTranscript("explore", "pm-ioctl-no-get-vs-runtime-suspend")
	if err != nil {
		return "", err
	}
	if status != 0 {
		return "", fmt.Errorf("status %d", status)
	}
	return newExcerpt(firstClause(out)).head(3).report(1, 1, 2).
		line("[kworker/pm] pm_runtime_work").span("[kworker/pm] kfree", "as predicted").text()
}

// pmExploreResume: the resume-vs-unplug exploration, exhausted.
func pmExploreResume() (string, error) {
	out, status, err := cliTranscript("explore", "pm-resume-vs-unplug")
	if err != nil {
		return "", err
	}
	if status != 0 {
		return "", fmt.Errorf("status %d", status)
	}
	return "$ drvsim explore pm-resume-vs-unplug\n" + firstClause(out), nil
}
