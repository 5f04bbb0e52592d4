package main

// The machine `drvsim serve` shows: a shell session's machine (the same
// commands, the same checks), driven by the page's controls instead of a
// prompt, with the two things a prompt cannot do: it is looked at by many
// clients while it changes, and a read may sleep in the driver while
// other commands run (a process blocked in read(2) while the cable is
// pulled).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/gid"
	"github.com/drvsim/drvsim/trace"
)

// liveMachine is a shell machine made safe to share: commands run one at
// a time (mu), as the shell runs them; what the page shows is read
// without mu, from the driver core (safe for concurrent use) and from a
// copy of the shell's file table published after each command, so a
// command that sleeps (an unplug waiting for a reader's grace period)
// does not stop the page from watching it.
type liveMachine struct {
	mu   sync.Mutex
	sess *shellSession
	out  bytes.Buffer // the session's output, reset for each command
	log  *trace.Log

	tasks taskNames
	// files is the shell's file table as the last command left it.
	files atomic.Pointer[[]fileView]
	reads readTable
	// version counts the changes made without a trace event (a command
	// ended, a read finished): with the trace's Seq it says when the
	// state must be sent again.
	version atomic.Uint64
	changed broadcast
	unsub   func()
	readers sync.WaitGroup
	closed  bool
}

// maxReads bounds the reads left sleeping at once; readSleepWait bounds
// the wait for a read to reach its sleep in the driver.
const (
	maxReads      = 16
	readSleepWait = 5 * time.Second
)

// bootUSB is the machine of `drvsim serve` without a script: an empty USB
// bus (a host controller whose root hub has 4 ports).
var bootUSB = []string{"bus add usb"}

// newLiveMachine boots a shell machine and runs the boot commands (a
// lesson script's lines, or bootUSB), each as the shell would. A command
// that fails stops the boot, unless its line starts with "!" (the
// lesson expects it to fail).
func newLiveMachine(boot []string) (*liveMachine, error) {
	sm, err := newShellMachine(drvsim.DefaultTraceLimit)
	if err != nil {
		return nil, err
	}
	m := &liveMachine{log: sm.sys.Log()}
	m.sess = &shellSession{m: sm, out: &checkedWriter{w: &m.out}, errw: io.Discard, interactive: true, mark: m.log.Seq()}
	m.log.SetTaskFunc(m.tasks.current)
	m.unsub = m.log.Subscribe(func(trace.Event) { m.changed.notify() })
	m.publish()
	for i, line := range boot {
		var errs bytes.Buffer
		m.sess.errw, m.sess.interactive, m.sess.line = &errs, false, i+1
		m.tasks.as(actorOf(line), func() { m.sess.exec(line) })
		m.sess.errw, m.sess.interactive = io.Discard, true
		if m.sess.failed {
			m.close()
			return nil, fmt.Errorf("%s", strings.TrimSpace(errs.String()))
		}
	}
	m.out.Reset()
	m.publish()
	return m, nil
}

// scriptLines reads a lesson script (.drvsh) for newLiveMachine.
func scriptLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"), nil
}

// errNoDeviceTree is -dts on a drvsim without device-tree support.
var errNoDeviceTree = errors.New("this drvsim cannot boot from a device tree yet: it has no dt shell command")

// dtsBoot returns the boot commands of a machine booted from the
// device-tree source in path.
//
// Hook (device tree): the device-tree work adds the shell command
// "dt load FILE" (of.Load, of_platform_default_populate); once it is in,
// `drvsim serve -dts FILE` runs it and needs nothing more here. Until then
// -dts is refused with errNoDeviceTree.
func dtsBoot(path string) ([]string, error) {
	if lookupShellCommand("dt") == nil {
		return nil, errNoDeviceTree
	}
	return []string{"dt load " + strconv.Quote(path)}, nil
}

// actorOf names the task a command line runs as in the trace: the kernel
// context that does the work (hub_wq for the hub's port events, modprobe
// for a module's init and exit, a shell writing sysfs), the device for
// feed, and the process for its files.
func actorOf(line string) string {
	line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "!"))
	cmd, _, _ := strings.Cut(line, " ")
	switch cmd {
	case "plug", "unplug", "hub":
		return "hub_wq"
	case "bus", "driver", "dt", "overlay":
		return "modprobe"
	case "bind", "unbind", "override", "probe", "newid":
		return "sysfs"
	case "feed":
		return "hardware"
	}
	return "process"
}

// close ends the machine: every host controller goes (so every sleeping
// read is woken, its URB killed), the reads are waited for, then the
// shell machine closes its files and stops.
func (m *liveMachine) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	m.tasks.as("modprobe", func() {
		hcds := m.sess.m.usb.HCDs()
		for i := len(hcds) - 1; i >= 0; i-- {
			hcds[i].Remove()
		}
	})
	m.readers.Wait()
	m.unsub()
	m.sess.m.close()
	m.changed.notify()
}

// cmdResult is the outcome of a command.
type cmdResult struct {
	// Status is the HTTP status: 200 when the command ran (whatever it
	// returned), 202 for a read left sleeping, 4xx when it was refused
	// and nothing changed.
	Status int `json:"status"`
	// OK is true when the command succeeded.
	OK bool `json:"ok"`
	// Output is what the shell printed, Error its error line, Errno the
	// error's errno ("-ENODEV"), Bug a sanitizer's report.
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
	Errno  string `json:"errno,omitempty"`
	Bug    string `json:"bug,omitempty"`
	// Read is the read left sleeping (status 202).
	Read int `json:"read,omitempty"`
	// Seq is the trace's last event after the command.
	Seq uint64 `json:"seq"`
}

// pageCommands are the shell commands the page may run: all but quit
// and exit, which would end the session under every client.
func pageCommand(name string) *shellCommand {
	if name == "quit" || name == "exit" {
		return nil
	}
	return lookupShellCommand(name)
}

// run runs one shell command. A command that fails without changing
// anything (no trace event, the same devices, nodes and files) was
// refused: its status is the 4xx of its errno. With wait, a read of a
// device that has nothing to send sleeps in the driver on a task of its
// own, as read(2) would, and run returns at once (202).
func (m *liveMachine) run(name string, args []string, wait bool) cmdResult {
	cmd := pageCommand(name)
	if cmd == nil {
		return refused(fmt.Errorf("unknown command %q (the page runs the shell's commands but quit): %w", name, device.ErrInvalid))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return cmdResult{Status: 503, Error: "the machine is shutting down"}
	}
	if name == "close" && len(args) == 1 {
		if fd, err := strconv.Atoi(args[0]); err == nil && m.reads.sleeping(fd) > 0 {
			return refused(fmt.Errorf("fd %d has a read sleeping in the driver: wake it first (feed or unplug the device): %w", fd, device.ErrBusy))
		}
	}
	if name == "read" && wait {
		if res, ok := m.startRead(args); ok {
			return res
		}
	}
	seq, before := m.log.Seq(), m.fingerprint()
	m.out.Reset()
	var bug *env.Report
	var err error
	m.tasks.as(actorOf(name), func() { bug, err = m.sess.call(cmd, args) })
	defer m.publish()
	res := cmdResult{Status: 200, OK: err == nil && bug == nil, Output: m.out.String(), Seq: m.log.Seq()}
	if bug != nil {
		res.Bug = bug.String()
	}
	if err != nil {
		res.Error = strings.ReplaceAll(err.Error(), "\n", "; ")
		res.Errno = errnoOf(err)
		if res.Seq == seq && m.fingerprint() == before {
			res.Status = statusOf(err)
		}
	}
	return res
}

// isErrno reports whether err carries an errno.
func isErrno(err error) bool { return strings.HasPrefix(device.ErrnoName(err), "-") }

// refused is the result of a command refused before it ran.
func refused(err error) cmdResult {
	return cmdResult{Status: statusOf(err), Error: err.Error(), Errno: errnoOf(err)}
}

func errnoOf(err error) string {
	if isErrno(err) {
		return device.ErrnoName(err)
	}
	return ""
}

// statusOf is the HTTP status of a refused command: 400 for a malformed
// one (bad arguments, -EINVAL), 404 for what does not exist (-ENODEV,
// -ENOENT, -EBADF, -ENXIO), 409 for what the machine's state forbids
// now (-EBUSY, -EEXIST, -EAGAIN), 422 otherwise.
func statusOf(err error) int {
	switch {
	case errors.Is(err, device.ErrInvalid), strings.HasPrefix(err.Error(), "usage: "), !isErrno(err):
		return 400
	case errors.Is(err, device.ErrNoDevice), errors.Is(err, device.ErrNoEntry), errors.Is(err, device.ErrBadFile), errors.Is(err, device.ErrNoDeviceOrAddress):
		return 404
	case errors.Is(err, device.ErrBusy), errors.Is(err, device.ErrExist), errors.Is(err, device.ErrAgain):
		return 409
	}
	return 422
}

// fingerprint sums up what a command may change besides the trace: the
// devices with their drivers, the nodes and the open files.
func (m *liveMachine) fingerprint() string {
	var b strings.Builder
	snap := m.sess.m.snapshot()
	for _, d := range snap.devs {
		fmt.Fprintf(&b, "%s=%s,", d.name, d.drive)
	}
	b.WriteString(strings.Join(snap.nodes, ","))
	for _, fd := range m.sess.m.fds() {
		f := m.sess.m.files.get(fd)
		fmt.Fprintf(&b, ";%d %s %v", fd, f.path, f.stale)
	}
	return b.String()
}

// startRead starts read FD [N] on a task of its own when it would sleep:
// the file is a USB loopback's that has nothing to send and whose driver
// is still bound. ok is false when the read would not sleep, or its
// arguments are for the shell to judge: the caller runs it as a command.
func (m *liveMachine) startRead(args []string) (res cmdResult, ok bool) {
	if len(args) < 1 || len(args) > 2 {
		return cmdResult{}, false
	}
	fd, err1 := strconv.Atoi(args[0])
	n := 64
	var err2 error
	if len(args) == 2 {
		n, err2 = strconv.Atoi(args[1])
	}
	if err1 != nil || err2 != nil || n < 0 {
		return cmdResult{}, false
	}
	f := m.sess.m.files.get(fd)
	if f == nil || f.stale || f.lb == nil || f.lb.Queued() > 0 {
		return cmdResult{}, false
	}
	if m.reads.sleepingAll() >= maxReads {
		return refused(fmt.Errorf("%d reads are sleeping already: %w", maxReads, device.ErrBusy)), true
	}
	udev := m.sess.m.usb.InterfaceOf(f.intf).Device()
	inFlight := udev.URBsInFlight()
	id := m.reads.start(fd, f.path, m.log.Seq())
	task := fmt.Sprintf("reader fd %d", fd)
	filp := f.filp
	done := make(chan struct{})
	m.readers.Add(1)
	go func() {
		defer m.readers.Done()
		m.tasks.as(task, func() {
			p, err := filp.Read(n)
			m.reads.finish(id, p, err)
		})
		close(done)
		m.version.Add(1)
		m.changed.notify()
	}()
	// Return once the read sleeps: its URB is submitted (the driver
	// waits for it), or it returned after all.
	for deadline := time.Now().Add(readSleepWait); udev.URBsInFlight() <= inFlight && time.Now().Before(deadline); {
		select {
		case <-done:
			deadline = time.Time{}
		case <-time.After(time.Millisecond):
		}
	}
	m.version.Add(1)
	m.changed.notify()
	return cmdResult{Status: 202, OK: true, Read: id, Seq: m.log.Seq(),
		Output: fmt.Sprintf("fd %d: reading: the read sleeps in the driver until the device sends data (feed it) or goes (unplug it)\n", fd)}, true
}

// publish copies the shell's file table for readers of the state.
func (m *liveMachine) publish() {
	files := []fileView{}
	for _, fd := range m.sess.m.fds() {
		f := m.sess.m.files.get(fd)
		files = append(files, fileView{FD: fd, Path: f.path, Stale: f.stale, Reading: m.reads.sleeping(fd)})
	}
	m.files.Store(&files)
	m.version.Add(1)
	m.changed.notify()
}

// fileView is an open file.
type fileView struct {
	FD   int    `json:"fd"`
	Path string `json:"path"`
	// Stale is true once the driver it was opened through is gone: its
	// operations answer -ENODEV.
	Stale bool `json:"stale,omitempty"`
	// Reading counts its reads sleeping in the driver.
	Reading int `json:"reading,omitempty"`
}

// machineState is what the page shows of the machine.
type machineState struct {
	// Seq is the trace's last event when the state was read; Version
	// counts the changes without events.
	Seq      uint64         `json:"seq"`
	Version  uint64         `json:"version"`
	Tree     treeView       `json:"tree"`
	Files    []fileView     `json:"files"`
	Reads    []readView     `json:"reads"`
	Ports    []portView     `json:"ports"`
	Drivers  []driverView   `json:"drivers"`
	Loadable []loadableView `json:"loadable"`
	Closed   bool           `json:"closed,omitempty"`
}

// portView is a USB port: its name (1-2, 1-2.4) and what is plugged in.
type portView struct {
	Port   string `json:"port"`
	Device string `json:"device,omitempty"`
	ID     string `json:"id,omitempty"`
	Hub    bool   `json:"hub,omitempty"`
	// Plugged is true for a device plugged in that no hub driver
	// enumerated.
	Plugged bool `json:"plugged,omitempty"`
}

// driverView is a driver with the devices bound to it.
type driverView struct {
	Bus     string   `json:"bus"`
	Name    string   `json:"name"`
	Devices []string `json:"devices"`
}

// loadableView is a usb driver the shell can load.
type loadableView struct {
	Name   string `json:"name"`
	About  string `json:"about"`
	Loaded bool   `json:"loaded"`
}

// state reads the machine's state. It does not wait for a running
// command.
func (m *liveMachine) state() machineState {
	seq, version := m.log.Seq(), m.version.Load()
	sm := m.sess.m
	files := *m.files.Load()
	open := map[string]int{}
	for i := range files {
		files[i].Reading = m.reads.sleeping(files[i].FD)
		open[devPath(files[i].Path)]++
	}
	st := machineState{Seq: seq, Version: version, Files: files, Reads: m.reads.views(),
		Tree: liveTree(sm.sys.Core, m.usbKind, open), Ports: []portView{}, Drivers: []driverView{}}
	for _, h := range sm.usb.HCDs() {
		st.Ports = appendPorts(st.Ports, h.RootHub(), strconv.Itoa(h.BusNum())+"-")
	}
	for _, b := range shellBuses {
		for _, drv := range sm.sys.Drivers(b) {
			dv := driverView{Bus: b, Name: drv.Name, Devices: []string{}}
			for _, d := range sm.sys.BoundDevices(drv) {
				dv.Devices = append(dv.Devices, d.Name())
			}
			st.Drivers = append(st.Drivers, dv)
		}
	}
	for _, l := range shellLoadables {
		loaded := slices.ContainsFunc(st.Drivers, func(d driverView) bool { return d.Bus == usbsim.BusName && d.Name == l.name })
		st.Loadable = append(st.Loadable, loadableView{Name: l.name, About: l.about, Loaded: loaded})
	}
	return st
}

// appendPorts lists the ports of hub, named prefix+N, and those of the
// hubs plugged into them.
func appendPorts(out []portView, hub *usbsim.Device, prefix string) []portView {
	for p := 1; p <= hub.Gadget().HubPorts; p++ {
		pv := portView{Port: prefix + strconv.Itoa(p)}
		if g := hub.Connected(p); g != nil {
			pv.ID = fmt.Sprintf("%04x:%04x", g.Desc.VendorID, g.Desc.ProductID)
			pv.Hub = g.HubPorts > 0
			pv.Plugged = true
		}
		child := hub.Child(p)
		if child != nil {
			pv.Device, pv.Plugged = child.Name(), false
		}
		out = append(out, pv)
		if child != nil && child.IsHub() {
			out = appendPorts(out, child, pv.Port+".")
		}
	}
	return out
}

// usbKind says what a USB device of the machine is.
func (m *liveMachine) usbKind(d *device.Device) string {
	usb := m.sess.m.usb
	if usb.InterfaceOf(d) != nil {
		return "interface"
	}
	if ud := usb.DeviceOf(d); ud != nil {
		switch {
		case ud.Parent() == nil:
			return "root hub"
		case ud.IsHub():
			return "hub"
		}
		return "device"
	}
	return ""
}

// readTable keeps the reads started by startRead: sleeping ones and the
// last finished ones.
type readTable struct {
	mu    sync.Mutex
	next  int
	reads []readView
}

// maxDoneReads bounds the finished reads kept for the page.
const maxDoneReads = 16

// readView is a read started by the page.
type readView struct {
	ID   int    `json:"id"`
	FD   int    `json:"fd"`
	Path string `json:"path"`
	// Done is false while the read sleeps; Result is then what it
	// returned: the data or the errno.
	Done   bool   `json:"done"`
	Result string `json:"result,omitempty"`
	// Seq is the trace's last event when it started.
	Seq uint64 `json:"seq"`
}

func (t *readTable) start(fd int, path string, seq uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.reads = append(t.reads, readView{ID: t.next, FD: fd, Path: path, Seq: seq})
	return t.next
}

func (t *readTable) finish(id int, p []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.reads {
		if t.reads[i].ID != id {
			continue
		}
		r := &t.reads[i]
		r.Done = true
		if err != nil {
			r.Result = device.ErrnoName(err)
		} else {
			r.Result = fmt.Sprintf("read %s: %q", shellBytes(len(p)), p)
		}
	}
	done := 0
	for i := len(t.reads) - 1; i >= 0; i-- {
		if t.reads[i].Done {
			done++
			if done > maxDoneReads {
				t.reads = slices.Delete(t.reads, i, i+1)
			}
		}
	}
}

// sleeping counts the reads of fd still sleeping.
func (t *readTable) sleeping(fd int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, r := range t.reads {
		if !r.Done && r.FD == fd {
			n++
		}
	}
	return n
}

func (t *readTable) sleepingAll() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, r := range t.reads {
		if !r.Done {
			n++
		}
	}
	return n
}

func (t *readTable) views() []readView {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]readView{}, t.reads...)
}

// taskNames names the goroutines that act on the live machine, so that
// its trace has one lane per actor (the plain environment has no tasks of
// its own): the log asks current for the name of the goroutine emitting.
type taskNames struct {
	mu    sync.RWMutex
	names map[uint64]string
}

// current names the calling goroutine, "" for one not named (a worker
// of the kernel library, the driver core's async probe).
func (t *taskNames) current() string {
	g := gid.Get()
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.names[g]
}

// as runs fn on the calling goroutine named name.
func (t *taskNames) as(name string, fn func()) {
	g := gid.Get()
	t.mu.Lock()
	if t.names == nil {
		t.names = map[uint64]string{}
	}
	old, had := t.names[g]
	t.names[g] = name
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if had {
			t.names[g] = old
		} else {
			delete(t.names, g)
		}
		t.mu.Unlock()
	}()
	fn()
}

// broadcast wakes every waiter at once: wait returns a channel that
// notify closes. A notify with nobody waiting costs one atomic load: the
// trace calls it for every event.
type broadcast struct {
	mu      sync.Mutex
	ch      chan struct{}
	waiting atomic.Bool
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	b.waiting.Store(true)
	return b.ch
}

func (b *broadcast) notify() {
	if !b.waiting.Load() {
		return
	}
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.waiting.Store(false)
	b.mu.Unlock()
}
