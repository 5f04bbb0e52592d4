package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/trace"
)

// shell runs `drvsim shell ARGS...` with script as standard input and
// returns the exit status, standard output and standard error.
func runShellTest(t *testing.T, script string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := runShell(args, strings.NewReader(script), &out, &errb)
	return rc, out.String(), errb.String()
}

// transcript runs a script with standard output and error on one writer,
// as a terminal shows them.
func shellTranscript(t *testing.T, script string, args ...string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	rc := runShell(args, strings.NewReader(script), &b, &b)
	return rc, b.String()
}

const shellPlugScript = `bus add usb
plug fff0:fff0 1-1
trace
`

func TestShellPlugBindsAndTraceShowsProbe(t *testing.T) {
	rc, out, errs := runShellTest(t, shellPlugScript)
	require.Equal(t, 0, rc, errs)
	assert.Empty(t, errs)
	for _, want := range []string{
		"drvsim> plug fff0:fff0 1-1\n1-1: fff0:fff0, usb-skeleton loopback\n",
		"+ 1-1 bus=usb driver=usb\n",
		"+ 1-1:1.0 bus=usb driver=skel-revocable\n",
		"+ /dev/skel0\n",
		"really_probe /sys/devices/usb1/1-1/1-1:1.0: bus=usb driver=skel-revocable",
		"call_driver_probe /sys/devices/usb1/1-1/1-1:1.0: driver=skel-revocable ret=0",
		"driver_bound /sys/devices/usb1/1-1/1-1:1.0: driver=skel-revocable: bound",
		"usb_register_dev /sys/devices/usb1/1-1/1-1:1.0: skel0: minor 192",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "bus_register", "trace starts after boot")
}

func TestShellReadAfterUnplugIsENODEV(t *testing.T) {
	rc, out := shellTranscript(t, `bus add usb
plug fff0:fff0 1-1
open /dev/skel0
feed 1-1 hi
read 3
write 3 hello
read 3 2
read 3
unplug 1-1
read 3
write 3 x
ioctl 3 bulk-in-size
close 3
trace
`)
	assert.Equal(t, 1, rc, "the reads after the unplug failed")
	for _, want := range []string{
		"fd 3: /dev/skel0\n",
		"1-1: 2 bytes to read\n",
		"fd 3: read 2 bytes: \"hi\"\n",
		"fd 3: wrote 5 bytes\n",
		"fd 3: read 2 bytes: \"he\"\n",
		"fd 3: read 3 bytes: \"llo\"\n",
		"- /dev/skel0\n- 1-1:1.0\n- 1-1\n",
		"drvsim> read 3\nerror: line 10: read: skel_read: no such device (-ENODEV)",
		"drvsim> write 3 x\nerror: line 11: write: skel_write: no such device (-ENODEV)",
		"drvsim> ioctl 3 bulk-in-size\nerror: line 12: ioctl: skel_ioctl: no such device (-ENODEV)",
		"fd 3: closed\n",
		"vfs_read /dev/skel0: -ENODEV",
		"revocable_provider_release skel 1-1:1.0: released",
		"__fput /dev/skel0: release 0",
	} {
		assert.Contains(t, out, want)
	}
}

// A read the device cannot answer would sleep forever in a real
// usb_bulk_msg; the shell answers -EAGAIN and goes on.
func TestShellReadWithoutDataDoesNotHang(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb
plug fff0:fff0 1-1
open /dev/skel0
read 3
unbind skel-revocable 1-1:1.0
read 3
`)
	assert.Equal(t, 1, rc)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	require.Len(t, lines, 2, errs)
	assert.Contains(t, lines[0], "error: line 4: read: ")
	assert.Contains(t, lines[0], "(-EAGAIN)")
	assert.Contains(t, lines[1], "error: line 6: read: skel_read: no such device (-ENODEV)", "unbound: the driver answers at once")
	assert.Contains(t, out, "~ 1-1:1.0 no driver")
}

func TestShellErrorIsOneLineAndSessionGoesOn(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb
plug fff0:fff0 1-1
bind skel-revocable 1-1:1.0
frobnicate
plug fff0:fff0 1-9
unplug 1-2
devices
`)
	assert.Equal(t, 1, rc)
	assert.Equal(t, []string{
		"error: line 3: bind: probe /sys/devices/usb1/1-1/1-1:1.0: already bound to skel-revocable: device or resource busy (-EBUSY)",
		`error: line 4: unknown command "frobnicate" (try help)`,
		"error: line 5: plug: hub_port_connect usb1: no port 9: invalid argument (-EINVAL)",
		"error: line 6: unplug: nothing plugged in at 1-2: no such device (-ENODEV)",
	}, strings.Split(strings.TrimSuffix(errs, "\n"), "\n"))
	assert.Contains(t, out, "drvsim> devices\n", "the session went on")
	assert.Contains(t, out, "1-1:1.0      bus=usb      driver=skel-revocable  state=bound\n", "state intact")
}

func TestShellExitStatus(t *testing.T) {
	rc, _, errs := runShellTest(t, shellPlugScript)
	assert.Equal(t, 0, rc, errs)

	rc, _, _ = runShellTest(t, "bus add usb\nunplug 1-1\nhelp\n")
	assert.Equal(t, 1, rc, "one failed command fails the run")

	rc, _, errs = runShellTest(t, "bus add usb\n! unplug 1-1\n")
	assert.Equal(t, 0, rc, "an expected failure is not a failure")
	assert.Contains(t, errs, "error: line 2: unplug: nothing plugged in at 1-1")

	rc, _, errs = runShellTest(t, "! bus add usb\n")
	assert.Equal(t, 1, rc, "an expected failure that succeeds fails the run")
	assert.Contains(t, errs, "error: line 1: bus: succeeded, but the script expects it to fail (!)")

	rc, out, _ := runShellTest(t, "quit\nfrobnicate\n")
	assert.Equal(t, 0, rc, "nothing runs after quit")
	assert.NotContains(t, out, "frobnicate")
	rc, _, _ = runShellTest(t, "exit\n")
	assert.Equal(t, 0, rc)
}

func TestShellUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}} {
		rc, out, errs := runShellTest(t, "", args...)
		assert.Equal(t, 0, rc, args)
		assert.True(t, strings.HasPrefix(out, "usage: drvsim shell [-trace-limit N] [SCRIPT]\n"), out)
		assert.Contains(t, out, "-trace-limit N")
		assert.Empty(t, errs)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--bogus"}, "drvsim shell: flag provided but not defined: -bogus (see drvsim help shell)\n"},
		{[]string{"a.drvsh", "b.drvsh"}, "drvsim shell: one script at most, got 2 arguments (see drvsim help shell)\n"},
		{[]string{"testdata/no-such-script.drvsh"}, "drvsim shell: open testdata/no-such-script.drvsh: no such file or directory (see drvsim help shell)\n"},
		{[]string{"testdata"}, "drvsim shell: testdata is a directory, not a script (see drvsim help shell)\n"},
		{[]string{"-trace-limit", "0"}, "drvsim shell: -trace-limit 0: want 1 to 16777216 (see drvsim help shell)\n"},
		{[]string{"-trace-limit=-5"}, "drvsim shell: -trace-limit -5: want 1 to 16777216 (see drvsim help shell)\n"},
		{[]string{"-trace-limit", "99999999999999999999"}, "drvsim shell: invalid value \"99999999999999999999\" for flag -trace-limit: value out of range (see drvsim help shell)\n"},
	} {
		rc, out, errs := runShellTest(t, "help\n", c.args...)
		assert.Equal(t, 2, rc, c.args)
		assert.Empty(t, out, c.args)
		assert.Equal(t, c.err, errs, c.args)
	}
}

func TestShellScriptSources(t *testing.T) {
	rc, fromFile, errs := runShellTest(t, "", "testdata/unplug-lesson.drvsh")
	require.Equal(t, 0, rc, errs)
	script := readShellFile(t, "testdata/unplug-lesson.drvsh")
	rc, fromDash, _ := runShellTest(t, script, "-")
	require.Equal(t, 0, rc)
	rc, fromStdin, _ := runShellTest(t, script)
	require.Equal(t, 0, rc)
	assert.Equal(t, fromFile, fromDash)
	assert.Equal(t, fromFile, fromStdin, "piped standard input reads as a script")
	assert.True(t, strings.HasPrefix(fromFile, "# Lesson:"), "comments are echoed")
	assert.NotContains(t, fromFile, "Type \"help\"", "no greeting when not at a terminal")
}

func TestShellHelp(t *testing.T) {
	rc, out, _ := runShellTest(t, "help\nhelp plug\n")
	require.Equal(t, 0, rc)
	for _, c := range shellCommands {
		assert.Contains(t, out, "\n  "+c.name+" ", c.name)
	}
	assert.Contains(t, out, "usage: plug VID:PID PORT\n")
	rc, _, errs := runShellTest(t, "help nope\nplug\n")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errs, `error: line 1: help: no command "nope"`)
	assert.Contains(t, errs, "error: line 2: plug: usage: plug VID:PID PORT")
}

func TestShellOverrideBindUnbind(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb
driver load skel-classic
plug fff0:fff0 1-1
unbind skel-revocable 1-1:1.0
override 1-1:1.0 skel-classic
probe 1-1:1.0
! bind skel-revocable 1-1:1.0
unbind skel-classic 1-1:1.0
override 1-1:1.0
bind skel-revocable 1-1:1.0
driver unload skel-revocable
devices
`)
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "drvsim> probe 1-1:1.0\n~ 1-1:1.0 driver=skel-classic\n+ /dev/skel0\n")
	assert.Contains(t, errs, `driver "skel-revocable" does not match the device: no such device (-ENODEV)`)
	assert.Contains(t, out, "drvsim> bind skel-revocable 1-1:1.0\n~ 1-1:1.0 driver=skel-revocable\n+ /dev/skel0\n")
	assert.Contains(t, out, "drvsim> driver unload skel-revocable\nskel-revocable: unloaded\n- /dev/skel0\n~ 1-1:1.0 no driver\n",
		"unloading unbinds (driver_detach); no other driver is tried")
}

func TestShellHubNewIDAndDisplay(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb ports=2
hub add 1-2 ports=2
plug 1234:5678 1-2.1
newid skel-classic 1234:5678
driver load skel-classic
newid skel-classic 1234:5678
driver load udl
plug 17e9:0103 usb1 port 1
open /dev/dri/card0
ioctl 3 version
! read 3
unplug 1-2
bus remove usb1
! ioctl 3 version
close 3
devices
`)
	assert.Equal(t, 1, rc)
	assert.Contains(t, errs, "error: line 4: newid: skel-classic is not loaded")
	assert.Contains(t, out, "+ 1-2.1:1.0 bus=usb no driver\n")
	assert.Contains(t, out, "drvsim> newid skel-classic 1234:5678\n~ 1-2.1:1.0 driver=skel-classic\n+ /dev/skel0\n")
	assert.Contains(t, out, "1-2: hub with 2 ports\n")
	assert.Contains(t, out, "1-1: 17e9:0103, DisplayLink adapter\n+ 1-1 bus=usb driver=usb\n+ 1-1:1.0 bus=usb driver=udl\n+ /dev/dri/card0\n")
	assert.Contains(t, out, "fd 3: udl 0.0.1 (DisplayLink)\n")
	assert.Contains(t, errs, "drm_ioctl /sys/devices/usb1/1-1/1-1:1.0/drm/card0 DRM_IOCTL_VERSION: no such device (-ENODEV)")
	assert.True(t, strings.HasSuffix(out, "drvsim> devices\n"), "nothing left after bus remove")
}

func TestShellTraceFormatsAndMarks(t *testing.T) {
	rc, out, errs := runShellTest(t, shellPlugScript+"trace\ntrace --since 0 --format json\n")
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "drvsim> trace\ndrvsim> trace --since 0", "a second trace shows nothing new")
	_, js, _ := strings.Cut(out, "--format json\n")
	evs, err := trace.ReadJSON(strings.NewReader(js))
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	assert.Equal(t, uint64(1), evs[0].Seq, "--since 0 is every event, boot included")

	rc, out, errs = runShellTest(t, shellPlugScript+"trace --all --format mermaid\n")
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "sequenceDiagram")

	rc, out, _ = runShellTest(t, "bus add usb\ntrace --brief\n")
	require.Equal(t, 0, rc)
	assert.Contains(t, out, "hub_probe /sys/devices/usb1/usb1:1.0")
	assert.NotContains(t, out, "bus_notify")
	assert.NotContains(t, out, "kobject_uevent")

	rc, out, _ = runShellTest(t, shellPlugScript+"unplug 1-1\ntrace --mark\nplug fff0:fff0 1-1\ntrace\n")
	require.Equal(t, 0, rc)
	_, last, _ := strings.Cut(out, "trace --mark\n")
	assert.NotContains(t, last, "usb_disconnect", "--mark: the next trace starts after it")
	assert.Contains(t, last, "hub_port_connect")

	rc, _, errs = runShellTest(t, "trace --format yaml\ntrace --all --since 3\ntrace extra\n")
	assert.Equal(t, 1, rc)
	assert.Equal(t, 3, strings.Count(errs, "\n"), errs)
	assert.Contains(t, errs, `unknown trace format "yaml"`)
}

func TestShellTreeTextAndDOT(t *testing.T) {
	rc, out, errs := runShellTest(t, "bus add usb\nplug fff0:fff0 1-1\ntree\ntree --format dot\n! tree --format svg\n")
	require.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "    usb1/1-1 bus=usb driver=usb state=bound rpm=active,usage=1\n")
	assert.Contains(t, out, "digraph devices {\n")
	assert.Contains(t, out, `"/sys/devices/usb1/1-1/1-1:1.0" [label="1-1:1.0\nbus=usb\ndriver=skel-revocable"];`)
	assert.Contains(t, out, `"/sys/devices/usb1/1-1" -> "/sys/devices/usb1/1-1/1-1:1.0";`)
}

// At a terminal the shell greets, prompts before every command, does not
// echo, and its errors name no line.
func TestShellInteractive(t *testing.T) {
	m, err := newShellMachine(drvsim.DefaultTraceLimit)
	require.NoError(t, err)
	defer m.close()
	var out, errb bytes.Buffer
	s := &shellSession{m: m, out: &checkedWriter{w: &out}, errw: &errb, interactive: true, mark: m.sys.Log().Seq()}
	failed := s.run(strings.NewReader("bus add usb\n\nnope\nquit\nhelp\n"))
	assert.True(t, failed)
	assert.Equal(t, `drvsim shell: a simulated machine. Type "help" for the commands, "quit" to leave.`+"\n"+
		"drvsim> usb1: USB bus 1, root hub with 4 ports\n+ usb1 bus=usb driver=usb\n+ usb1:1.0 bus=usb driver=hub\n"+
		"drvsim> drvsim> drvsim> ", out.String())
	assert.Equal(t, "error: unknown command \"nope\" (try help)\n", errb.String())

	out.Reset()
	s = &shellSession{m: m, out: &checkedWriter{w: &out}, errw: &errb, interactive: true}
	s.run(strings.NewReader(""))
	assert.True(t, strings.HasSuffix(out.String(), "drvsim> \n"), "end of input ends the prompt's line")
	assert.False(t, isTerminal(strings.NewReader("")))
}

func TestShellDeterministic(t *testing.T) {
	script := readShellFile(t, "testdata/unplug-lesson.drvsh") + readShellFile(t, "testdata/bind-lesson.drvsh")
	_, a := shellTranscript(t, script)
	_, b := shellTranscript(t, script)
	assert.Equal(t, a, b)
}

func TestSplitWords(t *testing.T) {
	w, err := shellWords(`write  3 "a b\x00" c`)
	require.NoError(t, err)
	assert.Equal(t, []string{"write", "3", "a b\x00", "c"}, w)
	w, err = shellWords(`write 3 "say \"hi\""`)
	require.NoError(t, err)
	assert.Equal(t, []string{"write", "3", `say "hi"`}, w)
	_, err = shellWords(`write 3 "open`)
	assert.Error(t, err)
}

// A device plugged in at a port no hub driver watches is only a cable:
// binding the hub driver enumerates it; unplugging it before then runs no
// kernel code, and afterwards there is nothing left to unplug.
func TestShellPlugAtUnwatchedPort(t *testing.T) {
	rc, out := shellTranscript(t, `bus add usb
unbind hub usb1:1.0
plug fff0:fff0 1-1
bind hub usb1:1.0
unbind hub usb1:1.0
unplug 1-1
bind hub usb1:1.0
!unplug 1-1
`)
	require.Equal(t, 0, rc, out)
	assert.Contains(t, out, "drvsim> plug fff0:fff0 1-1\n1-1: fff0:fff0, usb-skeleton loopback: plugged in, not enumerated (no hub driver watches the port)\n")
	assert.Contains(t, out, "drvsim> bind hub usb1:1.0\n~ usb1:1.0 driver=hub\n+ 1-1 bus=usb driver=usb\n+ 1-1:1.0 bus=usb driver=skel-revocable\n+ /dev/skel0\n")
	assert.Contains(t, out, "drvsim> unplug 1-1\ndrvsim> bind hub usb1:1.0\n~ usb1:1.0 driver=hub\ndrvsim> !unplug 1-1\n")
	assert.Contains(t, out, "error: line 8: unplug: nothing plugged in at 1-1")
}

// The device-tree commands' misuse: usage errors, no tree yet, a second
// tree, an unknown overlay id, a file that does not exist.
func TestShellDTErrors(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"dt\n", "usage: dt load FILE|board | show"},
		{"dt show\n", "no device tree: dt load first"},
		{"overlay list\n", "no device tree: dt load first"},
		{"overlay\n", "usage: overlay apply FILE|sensor|uart | remove ID | list"},
		{"dt load board\ndt load board\n", "a device tree is loaded already (one per boot)"},
		{"dt load board\noverlay remove 7\n", "of_overlay_remove: no overlay 7"},
		{"dt load board\noverlay remove x\n", "usage: overlay"},
		{"dt load /nonexistent.dts\n", "no such file or directory"},
		{"dt load board\noverlay apply /nonexistent.dtso\n", "no such file or directory"},
	} {
		rc, _, errs := runShellTest(t, tc.script)
		assert.Equal(t, 1, rc, tc.script)
		assert.Contains(t, errs, tc.want, tc.script)
	}
}
