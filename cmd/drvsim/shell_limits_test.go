package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/trace"
)

// `drvsim shell </dev/null`: /dev/null is a character device, not a
// terminal, so its (empty) input is a script: no greeting, no prompt.
func TestShellFromDevNullIsAScript(t *testing.T) {
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	var out, errb bytes.Buffer
	rc := runShell(nil, null, &out, &errb)
	assert.Equal(t, 0, rc, errb.String())
	assert.Empty(t, out.String(), "no banner, no prompt")
	assert.Empty(t, errb.String())
}

// failingWriter accepts ok bytes, then fails every write.
type failingWriter struct {
	ok  int
	buf bytes.Buffer
}

var errNoSpace = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.ok {
		n := w.ok - w.buf.Len()
		w.buf.Write(p[:n])
		return n, errNoSpace
	}
	return w.buf.Write(p)
}

// When standard output cannot be written, what was meant to be printed was
// not: shell, demo (its list), help and version end with status 1 and say
// why on stderr; the shell stops at the command whose output failed.
func TestWriteErrorsAreStatusOne(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"help", "explore"}, {"demo"}, {"demo", "devres"}, {"version"},
		{"shell", "--help"}, {"shell"},
	} {
		w := &failingWriter{ok: 10}
		var errb bytes.Buffer
		rc := run(args, strings.NewReader("help\n"), w, &errb)
		assert.Equal(t, 1, rc, "%v", args)
		assert.Contains(t, errb.String(), "writing standard output: no space left on device", "%v", args)
		assert.Equal(t, 1, strings.Count(errb.String(), "writing standard output"), "%v: said once", args)
	}

	// The shell: the session ends at the first command whose output is
	// lost; nothing after it runs.
	w := &failingWriter{ok: 200}
	var errb bytes.Buffer
	rc := run([]string{"shell"}, strings.NewReader("help\nbus add usb\nplug fff0:fff0 1-1\n"), w, &errb)
	assert.Equal(t, 1, rc)
	assert.Equal(t, "drvsim shell: writing standard output: no space left on device: session ended after line 1\n", errb.String())
	assert.NotContains(t, w.buf.String(), "bus add")

	// Called on its own, the shell says so too.
	w = &failingWriter{ok: 0}
	errb.Reset()
	rc = runShell(nil, strings.NewReader("help\n"), w, &errb)
	assert.Equal(t, 1, rc)
	assert.Contains(t, errb.String(), "drvsim shell: writing standard output")
}

// runBinaryTo runs the command as a subprocess with stdin, its standard
// output going to stdout, and returns its exit status and stderr.
func runBinaryTo(t *testing.T, stdout *os.File, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(drvsimBinary(t), args...)
	cmd.Env = append(os.Environ(), asCommand+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), errb.String()
	}
	require.NoError(t, err)
	return 0, errb.String()
}

// The same as a process, writing to /dev/full.
func TestWriteErrorsAsSubprocess(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"demo"}, {"shell"}} {
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		require.NoError(t, err)
		rc, errs := runBinaryTo(t, full, "help\n", args...)
		full.Close()
		assert.Equal(t, 1, rc, "%v: %s", args, errs)
		assert.Contains(t, errs, "writing standard output", args)
	}
}

// A line longer than 1 MiB is an error, skipped to its end; the session
// goes on. A line of exactly 1 MiB is read.
func TestShellOverlongLine(t *testing.T) {
	long := strings.Repeat("x", shellMaxLine+1)
	exact := "#" + strings.Repeat("y", shellMaxLine-1)
	rc, out, errs := runShellTest(t, "bus add usb\n"+long+"\n"+exact+"\nplug fff0:fff0 1-1\n"+long)
	assert.Equal(t, 1, rc)
	assert.Equal(t, "error: line 2: line longer than 1048576 bytes: skipped\n"+
		"error: line 5: line longer than 1048576 bytes: skipped\n", errs)
	assert.Contains(t, out, "\n"+exact+"\ndrvsim> plug fff0:fff0 1-1\n1-1: fff0:fff0", "the session went on")
	assert.NotContains(t, out, "xxx")

	rc, out, errs = runShellTest(t, "bus add usb\r\nnodes\r\n")
	assert.Equal(t, 0, rc, errs)
	assert.Contains(t, out, "drvsim> nodes\n", "a carriage return before the newline is dropped")
}

// read FD 0 is a read of 0 bytes: 0 bytes, whether or not the device has
// data, and the data stays.
func TestShellReadZeroBytes(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb
plug fff0:fff0 1-1
open /dev/skel0
read 3 0
feed 1-1 hi
read 3 0
read 3
`)
	require.Equal(t, 0, rc, errs)
	assert.Equal(t, 2, strings.Count(out, "fd 3: read 0 bytes: \"\"\n"), out)
	assert.Contains(t, out, "fd 3: read 2 bytes: \"hi\"\n")
}

// Port counts are the kernel's: 1 to 31 per hub; nonsense is refused with
// a clear error before anything is plugged; a hub nested too deep is
// refused by the hub driver; bus numbers are reused and a bus is removed
// once.
func TestShellUSBLimits(t *testing.T) {
	rc, out, errs := runShellTest(t, `bus add usb ports=0
bus add usb ports=-1
bus add usb ports=32
bus add usb ports=1000000000
bus add usb ports=99999999999999999999
bus add usb ports=x
bus add usb ports=31
hub add 1-1 ports=9223372036854775807
hub add 1-1 ports=0
hub add 1-1 ports=-1
devices
bus remove usb1
bus remove usb1
bus add usb
`)
	assert.Equal(t, 1, rc)
	assert.Equal(t, []string{
		"error: line 1: bus: ports=0: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 2: bus: ports=-1: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 3: bus: ports=32: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 4: bus: ports=1000000000: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 5: bus: ports=99999999999999999999: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 6: bus: usage: bus add usb [ports=N] | remove usbN",
		"error: line 8: hub: ports=9223372036854775807: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 9: hub: ports=0: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 10: hub: ports=-1: a hub has 1 to 31 ports (USB_MAXCHILDREN): invalid argument (-EINVAL)",
		"error: line 13: bus: no USB bus usb1: no such device (-ENODEV)",
	}, strings.Split(strings.TrimSuffix(errs, "\n"), "\n"))
	assert.Contains(t, out, "drvsim> bus add usb ports=31\nusb1: USB bus 1, root hub with 31 ports\n")
	assert.Contains(t, out, "drvsim> devices\nusb1         bus=usb      driver=usb             state=bound\nusb1:1.0     bus=usb      driver=hub             state=bound\ndrvsim> bus remove usb1\n",
		"nothing was plugged by the refused hubs")
	assert.True(t, strings.HasSuffix(out, "drvsim> bus add usb\nusb1: USB bus 1, root hub with 4 ports\n+ usb1 bus=usb driver=usb\n+ usb1:1.0 bus=usb driver=hub\n"),
		"bus number 1 is reused:\n%s", out)
}

// A chain of hubs: the sixth hub sits at the kernel's MAX_TOPO_LEVEL and
// the hub driver refuses it; a device plugged into it is not enumerated.
func TestShellHubNestedTooDeep(t *testing.T) {
	var script strings.Builder
	script.WriteString("bus add usb\n")
	port := "1-1"
	for range 6 {
		fmt.Fprintf(&script, "hub add %s ports=2\n", port)
		port += ".1"
	}
	fmt.Fprintf(&script, "plug fff0:fff0 %s\n", port)
	rc, out, errs := runShellTest(t, script.String())
	assert.Equal(t, 1, rc)
	assert.Equal(t, "error: line 7: hub: 1-1.1.1.1.1.1: hub nested too deep: level 6, the hub driver takes hubs up to level 5 (MAX_TOPO_LEVEL): "+
		"it stays plugged in, nothing on its ports is enumerated: argument list too long (-E2BIG)\n", errs)
	assert.Contains(t, out, "1-1.1.1.1.1: hub with 2 ports\n+ 1-1.1.1.1.1 bus=usb driver=usb\n+ 1-1.1.1.1.1:1.0 bus=usb driver=hub\n")
	assert.Contains(t, out, "1-1.1.1.1.1.1: hub with 2 ports\n+ 1-1.1.1.1.1.1 bus=usb driver=usb\n+ 1-1.1.1.1.1.1:1.0 bus=usb no driver\n")
	assert.Contains(t, out, "1-1.1.1.1.1.1.1: fff0:fff0, usb-skeleton loopback: plugged in, not enumerated")
}

// A loopback device holds at most shellDeviceBuffer bytes for the reader:
// a feed or write past it is -EAGAIN, as a read with nothing to read.
func TestShellDeviceBufferBounded(t *testing.T) {
	chunk := strings.Repeat("z", shellDeviceBuffer/2)
	rc, out, errs := runShellTest(t, "bus add usb\nplug fff0:fff0 1-1\nopen /dev/skel0\n"+
		"feed 1-1 "+chunk+"\nfeed 1-1 "+chunk+"\nfeed 1-1 z\nwrite 3 z\nread 3 64\nwrite 3 z\n")
	assert.Equal(t, 1, rc)
	assert.Contains(t, out, "1-1: 65536 bytes to read\n")
	assert.Equal(t, 2, strings.Count(errs, "the device's buffer is full (65536 bytes at most): a real write would sleep (read from it first): try again (-EAGAIN)"), errs)
	assert.Contains(t, errs, "error: line 6: feed: ")
	assert.Contains(t, errs, "error: line 7: write: ")
	assert.Contains(t, out, "fd 3: wrote 1 byte\n", "room again after the read")
}

// The shell keeps the newest -trace-limit events; a trace that reaches
// back past them says which are gone, on stderr, and stays well formed.
func TestShellTraceBounded(t *testing.T) {
	script := "bus add usb\n" + strings.Repeat("plug fff0:fff0 1-1\nunplug 1-1\n", 5) + "trace --all --format json\ntrace --since -5\n"
	rc, out, errs := runShellTest(t, script, "-trace-limit", "100")
	assert.Equal(t, 1, rc)
	_, js, _ := strings.Cut(out, "--format json\n")
	js, _, _ = strings.Cut(js, "drvsim> ")
	evs, err := trace.ReadJSON(strings.NewReader(js))
	require.NoError(t, err)
	require.Len(t, evs, 100)
	first := evs[0].Seq
	assert.Equal(t, fmt.Sprintf("note: trace: events 1 to %d are gone: the machine keeps the newest 100 (drvsim shell -trace-limit N)\n", first-1)+
		"error: line 13: trace: --since -5: want a sequence number, 0 or more: invalid argument (-EINVAL)\n", errs)

	_, help, _ := runShellTest(t, "", "--help")
	assert.Contains(t, help, fmt.Sprintf("(default %d)", drvsim.DefaultTraceLimit), "by default, the System's default")
}

// The file table hands out the lowest free descriptor, 3 to 1023, and
// -EMFILE when all are taken; a closed descriptor is reused first.
func TestShellFileTableLimit(t *testing.T) {
	var script strings.Builder
	script.WriteString("bus add usb\nplug fff0:fff0 1-1\n")
	for range shellMaxFD - shellFirstFD {
		script.WriteString("open /dev/skel0\n")
	}
	script.WriteString("open /dev/skel0\nclose 500\nclose 7\nopen /dev/skel0\nopen /dev/skel0\nopen /dev/skel0\n")
	rc, out, errs := runShellTest(t, script.String())
	assert.Equal(t, 1, rc)
	assert.Contains(t, out, "fd 1023: /dev/skel0\n")
	assert.Equal(t, "error: line 1024: open: open /dev/skel0: 1021 files open, descriptors 3 to 1023: too many open files (-EMFILE)\n"+
		"error: line 1029: open: open /dev/skel0: 1021 files open, descriptors 3 to 1023: too many open files (-EMFILE)\n", errs)
	assert.True(t, strings.HasSuffix(out, "drvsim> open /dev/skel0\nfd 7: /dev/skel0\ndrvsim> open /dev/skel0\nfd 500: /dev/skel0\ndrvsim> open /dev/skel0\n"), out[len(out)-200:])
}

func TestFDTable(t *testing.T) {
	var tab fdTable[string]
	tab.init(3, 200)
	for fd := 3; fd < 200; fd++ {
		require.False(t, tab.full())
		require.Equal(t, fd, tab.alloc(fmt.Sprint(fd)))
	}
	assert.True(t, tab.full())
	assert.Equal(t, 197, tab.len())
	for _, fd := range []int{150, 64, 3, 127} {
		tab.free(fd)
	}
	tab.free(64) // not in use: nothing
	tab.free(2)  // reserved: nothing
	tab.free(200)
	assert.Equal(t, 193, tab.len())
	assert.Equal(t, "", tab.get(64))
	assert.Equal(t, "65", tab.get(65))
	assert.Equal(t, "", tab.get(-1))
	assert.Equal(t, "", tab.get(1<<40))
	for _, want := range []int{3, 64, 127, 150} {
		assert.Equal(t, want, tab.alloc("again"))
	}
	assert.True(t, tab.full())
	fds := tab.fds()
	assert.Len(t, fds, 197)
	assert.Equal(t, 3, fds[0])
	assert.Equal(t, 199, fds[len(fds)-1])
	assert.Panics(t, func() { tab.init(0, 64*64+1) })
}

// BenchmarkFDTableAlloc opens and closes the lowest free descriptor of a
// table holding 10 and 1000 files: the two cost the same (the lowest free
// descriptor is found in two words, whatever the table holds), where a
// scan from 3 grew with the table.
func BenchmarkFDTableAlloc(b *testing.B) {
	for _, held := range []int{10, 1000} {
		b.Run(fmt.Sprint(held), func(b *testing.B) {
			var tab fdTable[int]
			tab.init(shellFirstFD, shellMaxFD)
			for range held {
				tab.alloc(1)
			}
			for b.Loop() {
				tab.free(tab.alloc(1))
			}
		})
	}
}

// What the user typed keeps the transcript's shape: a control character
// or invalid UTF-8 in a command, a comment, an error or a
// driver_override is shown escaped, never sent to the terminal.
func TestShellOutputKeepsItsShape(t *testing.T) {
	rc, out, errs := runShellTest(t, "# red \x1b[31mtext\n\"bus\" add\x07 usb\nbus add usb\nplug fff0:fff0 1-1\n"+
		"override 1-1:1.0 \"a\\x1bb\"\ndevices\nnope\xff\nwrite 3 \"a\\x00b\"\n")
	assert.Equal(t, 1, rc)
	assert.Contains(t, out, "# red \\x1b[31mtext\n")
	assert.Contains(t, out, "drvsim> \"bus\" add\\x07 usb\n")
	assert.Contains(t, out, "1-1:1.0: driver_override=a\\x1bb\n")
	assert.Contains(t, out, "state=bound driver_override=a\\x1bb\n")
	assert.Contains(t, out, "drvsim> write 3 \"a\\x00b\"\n", "a line without control characters is shown as typed")
	assert.Contains(t, errs, `error: line 7: unknown command "nope\xff" (try help)`)
	for _, s := range []string{out, errs} {
		assert.True(t, utf8.ValidString(s))
		assert.False(t, strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' }), "%q", s)
	}
}

// driver_override is refused past PAGE_SIZE-1 bytes (driver_set_override),
// and the shell says so rather than printing what it did not set.
func TestShellOverrideTooLong(t *testing.T) {
	rc, out, errs := runShellTest(t, "bus add usb\nplug fff0:fff0 1-1\noverride 1-1:1.0 "+strings.Repeat("d", 4095)+"\ndevices\n")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errs, "error: line 3: override: driver_set_override /sys/devices/usb1/1-1/1-1:1.0: 4095 bytes, at most 4094: invalid argument (-EINVAL)")
	assert.NotContains(t, out, "driver_override=d")
}
