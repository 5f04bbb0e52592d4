package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/of/board"
)

// shellMachine is the computer a shell session drives: one drvsim.System (the
// driver core with its platform bus and its /dev) with the USB core on it
// (whose usb-skeleton drivers make /dev/skelN), the DRM core once a DRM
// driver is loaded (/dev/dri/cardN), the usb drivers the session loaded,
// and the process's open files. Everything runs on the caller's goroutine,
// without the deterministic scheduler: every command runs to completion
// before the next one starts.
type shellMachine struct {
	sys *drvsim.System
	usb *usbsim.USB
	drm *drmsim.Class // nil until a DRM driver is loaded
	// board is the device-tree board's support, from the first dt load.
	board *board.Board
	// traceLimit is how many of the newest trace events the System keeps.
	traceLimit int
	// readSource reads the device-tree source a dt load or overlay apply
	// names: readDTS; the fuzz test keeps the file system out of it.
	readSource func(path string) ([]byte, error)

	loaded []*usbsim.Driver // drivers loaded by the shell, in load order
	files  fdTable[*shellFile]
	// unsubscribe removes the bus notifier that marks files stale.
	unsubscribe func()
}

// shellFile is one entry of the process's file table.
type shellFile struct {
	path string
	filp *chardev.File
	drm  *drmsim.File // the drm_file behind filp, for a DRM node
	// intf is the interface whose driver gave out the minor, lb the
	// loopback behind it: a read waits for lb's data while the driver
	// that was bound at open is still bound (stale is false).
	intf  *device.Device
	lb    *usbsim.Loopback
	stale bool
}

// shellFirstFD is the first file descriptor handed out: 0, 1 and 2 are the
// shell's own standard input, output and error; shellMaxFD bounds the file
// table (RLIMIT_NOFILE's usual 1024): descriptors 3 to 1023.
const (
	shellFirstFD = 3
	shellMaxFD   = 1024
)

// shellDeviceBuffer bounds what a loopback device holds for the reader
// (fed, or written to it): a write or feed beyond it would have to wait
// for a read, and the shell refuses it with -EAGAIN, as it does a read
// with nothing to read.
const shellDeviceBuffer = 64 << 10

// shellLoadable is a usb driver the shell can load, by name.
type shellLoadable struct {
	name, about string
	build       func(m *shellMachine) *usbsim.Driver
}

var shellLoadables = []shellLoadable{
	{string(skel.Revocable), "usb-skeleton on revocable resources (fff0:fff0, /dev/skelN)",
		func(m *shellMachine) *usbsim.Driver { return skel.NewRevocable(m.usb) }},
	{string(skel.Classic), "the kernel's usb-skeleton: kref + io_mutex (fff0:fff0, /dev/skelN)",
		func(m *shellMachine) *usbsim.Driver { return skel.NewClassic(m.usb) }},
	{string(skel.Broken), "usb-skeleton with the io_mutex race (fff0:fff0): do not copy",
		func(m *shellMachine) *usbsim.Driver { return skel.NewBroken(m.usb) }},
	{"udl", "DisplayLink display on the DRM core (17e9:*, /dev/dri/cardN)",
		func(m *shellMachine) *usbsim.Driver { return udlsim.New(udlsim.Classic, m.drmClass(), m.usb) }},
}

// shellDefaultDrivers are loaded at boot.
var shellDefaultDrivers = []string{string(skel.Revocable)}

// newShellMachine boots the machine: the System (keeping the newest
// traceLimit trace events), usb_init and the default drivers. No host
// controller yet: `bus add usb`.
func newShellMachine(traceLimit int) (*shellMachine, error) {
	m := &shellMachine{sys: drvsim.NewSystem(drvsim.WithTraceLimit(traceLimit)), traceLimit: traceLimit, readSource: readDTS}
	m.files.init(shellFirstFD, shellMaxFD)
	var err error
	if m.usb, err = usbsim.Init(m.sys.Core); err != nil {
		m.sys.Close()
		return nil, err
	}
	m.unsubscribe, err = m.sys.RegisterNotifier(usbsim.BusName, m.notify)
	if err != nil {
		m.sys.Close()
		return nil, err
	}
	for _, name := range shellDefaultDrivers {
		if err := m.load(name); err != nil {
			m.close()
			return nil, err
		}
	}
	return m, nil
}

// notify is the shell's bus notifier: once the driver a file was opened
// through is unbound (BUS_NOTIFY_UNBIND_DRIVER), the file's reads no longer
// wait for the device's data: the driver answers them (-ENODEV) at once.
func (m *shellMachine) notify(action bus.Action, dev *device.Device) {
	if action != bus.NotifyUnbindDriver {
		return
	}
	for _, fd := range m.files.fds() {
		if f := m.files.get(fd); f.intf == dev {
			f.stale = true
		}
	}
}

// close ends the session's machine: every open file is closed, every
// host controller removed (so every device is unplugged and every driver
// unbound), and the driver core's worker stopped. Nothing outlives it.
func (m *shellMachine) close() {
	for _, fd := range m.fds() {
		_ = m.closeFD(fd)
	}
	hcds := m.usb.HCDs()
	for i := len(hcds) - 1; i >= 0; i-- {
		_ = hcds[i].Remove() // each one is listed until removed
	}
	if m.unsubscribe != nil {
		m.unsubscribe()
	}
	m.sys.Close()
}

// drmClass returns the DRM core, creating it on first use (drm_core_init).
func (m *shellMachine) drmClass() *drmsim.Class {
	if m.drm == nil {
		m.drm = drmsim.NewClass(m.usb)
	}
	return m.drm
}

// flush runs every host controller's bottom half until no completion is
// pending: between two commands the machine is idle.
func (m *shellMachine) flush() {
	for _, h := range m.usb.HCDs() {
		for i := 0; i < 100 && h.Pending() > 0; i++ {
			h.Flush()
		}
	}
}

// load registers the named driver (usb_register).
func (m *shellMachine) load(name string) error {
	i := slices.IndexFunc(shellLoadables, func(l shellLoadable) bool { return l.name == name })
	if i < 0 {
		return fmt.Errorf("no driver %q to load (%s): %w", name, strings.Join(shellLoadableNames(), ", "), device.ErrNoEntry)
	}
	if m.loadedDriver(name) != nil {
		return fmt.Errorf("%s is already loaded: %w", name, device.ErrExist)
	}
	drv := shellLoadables[i].build(m)
	if err := m.usb.Register(drv); err != nil {
		return err
	}
	m.loaded = append(m.loaded, drv)
	return nil
}

// unload deregisters the named driver (usb_deregister).
func (m *shellMachine) unload(name string) error {
	drv := m.loadedDriver(name)
	if drv == nil {
		return fmt.Errorf("%s is not loaded: %w", name, device.ErrNoEntry)
	}
	if err := m.usb.Deregister(drv); err != nil {
		return err
	}
	m.loaded = slices.DeleteFunc(m.loaded, func(d *usbsim.Driver) bool { return d == drv })
	return nil
}

func (m *shellMachine) loadedDriver(name string) *usbsim.Driver {
	for _, d := range m.loaded {
		if d.Name == name {
			return d
		}
	}
	return nil
}

func shellLoadableNames() []string {
	var out []string
	for _, l := range shellLoadables {
		out = append(out, l.name)
	}
	return out
}

// hcd returns the host controller of bus number n.
func (m *shellMachine) hcd(n int) *usbsim.HCD {
	for _, h := range m.usb.HCDs() {
		if h.BusNum() == n {
			return h
		}
	}
	return nil
}

// port resolves a port path, the name the device on it gets: "1-2" is port
// 2 of bus 1's root hub, "1-2.4" port 4 of the hub on that port. It
// returns the hub and the port number.
func (m *shellMachine) port(path string) (*usbsim.Device, int, error) {
	bad := fmt.Errorf("bad port %q: want BUS-PORT[.PORT...], e.g. 1-1 or 1-2.4: %w", path, device.ErrInvalid)
	busPart, ports, ok := strings.Cut(path, "-")
	if !ok {
		return nil, 0, bad
	}
	busNum, err := strconv.Atoi(busPart)
	if err != nil {
		return nil, 0, bad
	}
	var nums []int
	for _, p := range strings.Split(ports, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, 0, bad
		}
		nums = append(nums, n)
	}
	h := m.hcd(busNum)
	if h == nil {
		return nil, 0, fmt.Errorf("no USB bus %d (bus add usb): %w", busNum, device.ErrNoDevice)
	}
	hub := h.RootHub()
	name := hub.Name()
	for _, n := range nums[:len(nums)-1] {
		child := hub.Child(n)
		if child == nil || !child.IsHub() {
			return nil, 0, fmt.Errorf("no hub on port %d of %s: %w", n, name, device.ErrNoDevice)
		}
		hub, name = child, child.Name()
	}
	return hub, nums[len(nums)-1], nil
}

// usbDevice returns the usb_device plugged at path.
func (m *shellMachine) usbDevice(path string) (*usbsim.Device, error) {
	hub, port, err := m.port(path)
	if err != nil {
		return nil, err
	}
	d := hub.Child(port)
	if d == nil {
		return nil, fmt.Errorf("nothing plugged in at %s: %w", path, device.ErrNoDevice)
	}
	return d, nil
}

// shellGadget builds the device at the end of the cable for vid:pid: the
// skeleton's loopback for fff0:fff0, a DisplayLink adapter for vendor
// 17e9, else a vendor-specific bulk device with a loopback function (no
// driver matches it until `newid`).
func shellGadget(vid, pid uint16) (*usbsim.Gadget, string) {
	switch {
	case vid == skel.VendorID && pid == skel.ProductID:
		return skel.Gadget(usbsim.NewLoopback(0)), "usb-skeleton loopback"
	case vid == udlsim.VendorID:
		g := udlsim.Gadget(udlsim.NewDisplay())
		g.Desc.ProductID = pid
		return g, "DisplayLink adapter"
	}
	return usbsim.BulkGadget(vid, pid, 64, usbsim.NewLoopback(0)), "vendor-specific bulk loopback"
}

// parseShellID parses "fff0:fff0".
func parseShellID(s string) (uint16, uint16, error) {
	v, p, ok := strings.Cut(s, ":")
	vid, err1 := strconv.ParseUint(v, 16, 16)
	pid, err2 := strconv.ParseUint(p, 16, 16)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad id %q: want VID:PID in hex, e.g. fff0:fff0: %w", s, device.ErrInvalid)
	}
	return uint16(vid), uint16(pid), nil
}

// device finds a registered device by name on any bus (bus_find_device_by_name).
func (m *shellMachine) device(name string) (*device.Device, error) {
	for _, d := range m.sys.Devices() {
		if d.Name() == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no device %q (see devices): %w", name, device.ErrNoDevice)
}

// shellBuses are the buses of the machine, in registration order.
var shellBuses = []string{"platform", usbsim.BusName}

// nodes lists the device nodes under /dev, sorted (the machine's
// devtmpfs).
func (m *shellMachine) nodes() []string {
	var out []string
	for _, n := range m.sys.DevNodes() {
		out = append(out, n.Path())
	}
	return out
}

// fds returns the open file descriptors in increasing order.
func (m *shellMachine) fds() []int { return m.files.fds() }

// open is open(2): the lowest free descriptor gets the file (the kernel's
// get_unused_fd_flags); a full table is -EMFILE.
func (m *shellMachine) open(path string) (int, error) {
	if m.files.full() {
		return 0, fmt.Errorf("open %s: %d files open, descriptors %d to %d: %w", path, m.files.len(), shellFirstFD, shellMaxFD-1, device.ErrTooManyFiles)
	}
	filp, err := chardev.Open(m.sys, path)
	if err != nil {
		return 0, err
	}
	f := &shellFile{path: path, filp: filp}
	switch filp.Devt().Major() {
	case usbsim.Major:
		f.intf, f.lb = m.minorOwner(filp.Minor())
	case drmsim.Major:
		f.drm, _ = filp.Private.(*drmsim.File)
	}
	return m.files.alloc(f), nil
}

// minorOwner finds the interface that registered minor of the USB major,
// and the loopback answering its device, if any.
func (m *shellMachine) minorOwner(minor int) (*device.Device, *usbsim.Loopback) {
	for _, d := range m.sys.BusDevices(usbsim.BusName) {
		if intf := m.usb.InterfaceOf(d); intf != nil && intf.Minor() == minor {
			lb, _ := intf.Device().Gadget().Function.(*usbsim.Loopback)
			return d, lb
		}
	}
	return nil, nil
}

func (m *shellMachine) file(fd int) (*shellFile, error) {
	f := m.files.get(fd)
	if f == nil {
		return nil, fmt.Errorf("fd %d: %w", fd, chardev.ErrBadFile)
	}
	return f, nil
}

// errShellWouldBlock is the shell's answer to a read the device cannot answer:
// the skeleton would sleep in usb_bulk_msg until data arrives, and nothing
// else runs in the shell to make it arrive.
var errShellWouldBlock = fmt.Errorf("the device has no data: a real read would sleep (feed the device, or write to it, first): %w", device.ErrAgain)

// errShellBufferFull is the shell's answer to a write or feed the
// loopback device has no room for (shellDeviceBuffer): a real writer would
// sleep until a read drains it.
var errShellBufferFull = fmt.Errorf("the device's buffer is full (%d bytes at most): a real write would sleep (read from it first): %w", shellDeviceBuffer, device.ErrAgain)

// read is read(2) of up to n bytes. A read of 0 bytes goes to the driver,
// which answers 0 at once.
func (m *shellMachine) read(fd, n int) ([]byte, error) {
	f, err := m.file(fd)
	if err != nil {
		return nil, err
	}
	if n > 0 && !f.stale && f.lb != nil && f.lb.Queued() == 0 {
		return nil, errShellWouldBlock
	}
	return f.filp.Read(n)
}

// write is write(2).
func (m *shellMachine) write(fd int, p []byte) (int, error) {
	f, err := m.file(fd)
	if err != nil {
		return 0, err
	}
	if !f.stale && f.lb != nil && !roomFor(f.lb, len(p)) {
		return 0, errShellBufferFull
	}
	return f.filp.Write(p)
}

// roomFor reports whether the loopback lb can take n more bytes.
func roomFor(lb *usbsim.Loopback, n int) bool {
	return n <= shellDeviceBuffer-lb.Queued()
}

// closeFD is close(2): the descriptor's reference goes; at the last one
// the driver's release runs.
func (m *shellMachine) closeFD(fd int) error {
	f, err := m.file(fd)
	if err != nil {
		return err
	}
	m.files.free(fd)
	return f.filp.Close()
}

// ioctl is ioctl(2) with a named command: "bulk-in-size" (the skeleton's
// 0x5301) on a skeleton file, "version" (DRM_IOCTL_VERSION) on a DRM file.
func (m *shellMachine) ioctl(fd int, cmd string) (string, error) {
	f, err := m.file(fd)
	if err != nil {
		return "", err
	}
	switch {
	case f.drm == nil && (cmd == "bulk-in-size" || cmd == "0x5301"):
		n, err := f.filp.Ioctl(skel.IoctlBulkInSize, nil)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("bulk_in_size=%d", n), nil
	case f.drm != nil && cmd == "version":
		var v drmsim.VersionArgs
		if err := f.drm.Ioctl(drmsim.IoctlVersion, &v); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %d.%d.%d (%s)", v.Name, v.Major, v.Minor, v.Patchlevel, v.Desc), nil
	}
	want := "bulk-in-size"
	if f.drm != nil {
		want = "version"
	}
	return "", fmt.Errorf("%s: unknown ioctl %q (this file knows %s): %w", f.path, cmd, want, device.ErrNoTTY)
}
