package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/trace"
)

// shellCommand is one shell command: its name, its arguments as help shows
// them, a one-line summary, a longer description and what it does.
type shellCommand struct {
	name, args, summary, about string
	run                        func(s *shellSession, args []string) error
}

// shellCommands is the shell's command table, in the order help lists it.
var shellCommands []*shellCommand

func init() {
	shellCommands = []*shellCommand{
		{"help", "[COMMAND]", "list the commands, or describe one", "", shellCmdHelp},
		{"bus", "add usb [ports=N] | remove usbN", "add a USB host controller (usb_add_hcd) or remove one",
			"bus add usb registers a host controller and its root hub usbN with N ports\n" +
				"(default 4): usb_add_hcd, register_root_hub. bus remove usbN is usb_remove_hcd:\n" +
				"everything below the root hub is disconnected.", shellCmdBus},
		{"hub", "add PORT [ports=N]", "plug an external hub with N ports (default 4) into PORT",
			"The hub binds to the hub driver; its ports are PORT.1, PORT.2, ...", shellCmdHub},
		{"plug", "VID:PID PORT", "plug a USB device into a port (hub_port_connect)",
			"PORT is the name the device gets: 1-1 is port 1 of bus 1's root hub, 1-2.3 is\n" +
				"port 3 of the hub on port 2 (\"usb1 port 1\" is accepted too). The device is\n" +
				"addressed, configured by the generic driver, and its interfaces bind to the\n" +
				"matching driver. fff0:fff0 is the usb-skeleton's loopback device (what you\n" +
				"write to it you can read back; feed gives it data), 17e9:* a DisplayLink\n" +
				"adapter (driver udl), anything else a vendor-specific loopback no driver\n" +
				"claims until newid.", shellCmdPlug},
		{"unplug", "PORT", "pull the cable of the device at PORT (usb_disconnect)",
			"The device and everything below it are marked NOTATTACHED, their interfaces\n" +
				"unbound (URBs terminated, then the driver's disconnect, then devres) and\n" +
				"deleted. Files that are still open keep working, with -ENODEV.", shellCmdUnplug},
		{"feed", "PORT DATA...", "give the loopback device at PORT data to send (what a read returns)", "", shellCmdFeed},
		{"driver", "list | load NAME | unload NAME", "list the loadable usb drivers, load one (usb_register), unload one (usb_deregister)",
			"Loaded at boot: " + strings.Join(shellDefaultDrivers, ", ") + ". Loading a driver binds it to every\n" +
				"unbound interface it matches; unloading unbinds its devices.", shellCmdDriver},
		{"bind", "DRIVER DEVICE", "bind DEVICE to DRIVER (echo DEVICE > /sys/bus/usb/drivers/DRIVER/bind)",
			"bind_store: the driver must match the device (or be its driver_override);\n" +
				"a device that already has a driver gives -EBUSY.", shellCmdBind},
		{"unbind", "DRIVER DEVICE", "unbind DEVICE from DRIVER (echo DEVICE > /sys/bus/usb/drivers/DRIVER/unbind)",
			"unbind_store: device_release_driver. -ENODEV if DEVICE is not bound to DRIVER.", shellCmdUnbind},
		{"override", "DEVICE [DRIVER]", "set DEVICE's driver_override (no DRIVER: clear it)",
			"driver_set_override: from now on only DRIVER may bind DEVICE, whatever the\n" +
				"id tables say. It does not rebind: unbind, then probe or bind.", shellCmdOverride},
		{"probe", "DEVICE", "ask the core to find DEVICE a driver (echo DEVICE > /sys/bus/usb/drivers_probe)", "", shellCmdProbe},
		{"newid", "DRIVER VID:PID", "add a dynamic id to DRIVER (echo VID PID > .../DRIVER/new_id)",
			"usb_store_new_id: the driver then binds every unbound interface with that id.", shellCmdNewID},
		{"dt", "load FILE|board | show", "boot the platform side from a device tree, or show the live tree",
			"dt load reads a device-tree source (FILE, or board: the built-in acme board of\n" +
				"package of/board), registers the board's drivers and populates it\n" +
				"(of.Load, of_platform_default_populate): fw_devlink links every consumer to\n" +
				"its suppliers and the drivers bind in dependency order. One tree per boot.\n" +
				"A bad source is refused with its line and column. dt show prints the live\n" +
				"tree with each node's flags and device.", shellCmdDT},
		{"overlay", "apply FILE|sensor|uart | remove ID | list", "apply or remove a device-tree overlay (platform hot-plug)",
			"overlay apply is of_overlay_fdt_apply: FILE, or a built-in overlay of the board\n" +
				"(sensor: a second sensor on the I2C controller; uart: the disabled UART turned\n" +
				"on); devices are made and probed for its nodes. overlay remove is\n" +
				"of_overlay_remove: their devices are unbound and deleted, consumers first;\n" +
				"files still open answer -ENODEV. Only the topmost overlapping overlay can go.", shellCmdOverlay},
		{"devices", "", "list the devices: bus, driver, state, driver_override", "", shellCmdDevices},
		{"drivers", "", "list the drivers of each bus and their devices", "", shellCmdDrivers},
		{"nodes", "", "list the device nodes under /dev", "", shellCmdNodes},
		{"open", "PATH", "open a device node, e.g. /dev/skel0; prints the file descriptor", "", shellCmdOpen},
		{"read", "FD [N]", "read up to N bytes (default 64)",
			"A read of a present device with nothing to send would sleep in usb_bulk_msg;\n" +
				"the shell answers -EAGAIN instead (feed the device, or write to it, first).", shellCmdRead},
		{"write", "FD DATA...", "write DATA (the words joined by spaces; quote for escapes)", "", shellCmdWrite},
		{"ioctl", "FD CMD", "ioctl: bulk-in-size on a skeleton file, version on a DRM file", "", shellCmdIoctl},
		{"close", "FD", "close a file (the last close: the driver's release)", "", shellCmdClose},
		{"files", "", "list the open files", "", shellCmdFiles},
		{"suspend", "", "suspend the machine (echo mem > /sys/power/state, up to the sleep)",
			"dpm_prepare (probing blocked), then dpm_suspend, dpm_suspend_late and\n" +
				"dpm_suspend_noirq: every device's callbacks, children before parents. The\n" +
				"machine then sleeps until resume; a device plugged meanwhile is probed at\n" +
				"resume. A failing callback aborts the suspend and resumes what was done.", shellCmdSuspend},
		{"resume", "", "wake the machine: the resume phases in reverse, probing unblocked", "", shellCmdResume},
		{"runtime", "get|put|auto|on|status DEVICE", "runtime PM of DEVICE: pm_runtime_get_sync, pm_runtime_put, power/control",
			"get resumes DEVICE (its parent first) and holds it, as a driver does before\n" +
				"touching the hardware; put drops the hold, and the device suspends when\n" +
				"nothing holds it (after its autosuspend delay: see wait). auto and on write\n" +
				"power/control: a USB device starts \"on\" (autosuspend forbidden).", shellCmdRuntime},
		{"wait", "DURATION", "let virtual time pass, e.g. wait 2s: timers fire, autosuspend happens", "", shellCmdWait},
		{"tree", "[--format text|dot]", "show the device tree, as text or as Graphviz DOT", "", shellCmdTree},
		{"trace", "[--format text|json|mermaid] [--since SEQ | --all] [--brief] [--mark]", "show the trace: by default what happened since the last trace",
			"--since SEQ shows the events after sequence number SEQ, --all every event\n" +
				"since boot. --brief leaves out bus notifier, uevent, device lock and\n" +
				"reference-count lines. --mark shows nothing: the next trace starts here.", shellCmdTrace},
		{"quit", "", "end the session (exit does the same)", "", shellCmdQuit},
	}
}

func lookupShellCommand(name string) *shellCommand {
	if name == "exit" {
		name = "quit"
	}
	for _, c := range shellCommands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// shellUsageError is a command used with the wrong arguments.
func shellUsageError(c string) error {
	cmd := lookupShellCommand(c)
	return fmt.Errorf("usage: %s %s", cmd.name, cmd.args)
}

func shellCmdHelp(s *shellSession, args []string) error {
	if len(args) > 1 {
		return shellUsageError("help")
	}
	if len(args) == 1 {
		c := lookupShellCommand(args[0])
		if c == nil {
			return fmt.Errorf("no command %q", args[0])
		}
		fmt.Fprintf(s.out, "usage: %s %s\n  %s\n", c.name, c.args, c.summary)
		if c.about != "" {
			for _, l := range strings.Split(c.about, "\n") {
				fmt.Fprintln(s.out, "  "+l)
			}
		}
		return nil
	}
	fmt.Fprintln(s.out, "commands (help COMMAND for more):")
	for _, c := range shellCommands {
		fmt.Fprintf(s.out, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(s.out, "Devices are named as in sysfs: usb1 (root hub), 1-1 (a device), 1-1:1.0 (its interface).")
	return nil
}

// portsOption parses the optional ports=N argument of bus and hub: N
// from 1 to USB_MAXCHILDREN, default 4. A malformed argument is the
// command's usage error; a number out of range says the range.
func portsOption(cmd string, args []string) (int, error) {
	switch len(args) {
	case 0:
		return 4, nil
	case 1:
		v, ok := strings.CutPrefix(args[0], "ports=")
		n, err := strconv.Atoi(v)
		switch {
		case !ok || (err != nil && !errors.Is(err, strconv.ErrRange)):
			return 0, shellUsageError(cmd)
		case err != nil || n < 1 || n > usbsim.MaxChildren:
			return 0, fmt.Errorf("ports=%s: a hub has 1 to %d ports (USB_MAXCHILDREN): %w", v, usbsim.MaxChildren, device.ErrInvalid)
		}
		return n, nil
	}
	return 0, shellUsageError(cmd)
}

func shellCmdBus(s *shellSession, args []string) error {
	switch {
	case len(args) >= 2 && args[0] == "add" && args[1] == "usb":
		ports, err := portsOption("bus", args[2:])
		if err != nil {
			return err
		}
		h, err := s.m.usb.AddHCD(ports)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s: USB bus %d, root hub with %d ports\n", h.RootHub().Name(), h.BusNum(), ports)
		return nil
	case len(args) >= 2 && args[0] == "add":
		return fmt.Errorf("cannot add a %q bus: only usb buses can be added (the platform bus is there from boot): %w", args[1], device.ErrInvalid)
	case len(args) == 2 && args[0] == "remove":
		n, err := strconv.Atoi(strings.TrimPrefix(args[1], "usb"))
		if err != nil || !strings.HasPrefix(args[1], "usb") {
			return shellUsageError("bus")
		}
		h := s.m.hcd(n)
		if h == nil {
			return fmt.Errorf("no USB bus %s: %w", args[1], device.ErrNoDevice)
		}
		return h.Remove()
	}
	return shellUsageError("bus")
}

func shellCmdHub(s *shellSession, args []string) error {
	if len(args) < 2 || args[0] != "add" {
		return shellUsageError("hub")
	}
	ports, err := portsOption("hub", args[2:])
	if err != nil {
		return err
	}
	hub, port, err := s.m.port(args[1])
	if err != nil {
		return err
	}
	d, err := hub.Plug(port, usbsim.HubGadget(ports))
	if errors.Is(err, usbsim.ErrNotEnumerated) {
		fmt.Fprintf(s.out, "%s: hub with %d ports: plugged in, not enumerated (no hub driver watches the port)\n", args[1], ports)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: hub with %d ports\n", d.Name(), ports)
	if d.Level() >= usbsim.MaxTopoLevel {
		// hub_probe refused it: the device is there, its ports unwatched
		return fmt.Errorf("%s: hub nested too deep: level %d, the hub driver takes hubs up to level %d (MAX_TOPO_LEVEL): "+
			"it stays plugged in, nothing on its ports is enumerated: %w", d.Name(), d.Level(), usbsim.MaxTopoLevel-1, usbsim.ErrTooBig)
	}
	return nil
}

func shellCmdPlug(s *shellSession, args []string) error {
	if len(args) == 4 && args[2] == "port" && strings.HasPrefix(args[1], "usb") {
		args = []string{args[0], strings.TrimPrefix(args[1], "usb") + "-" + args[3]}
	}
	if len(args) != 2 {
		return shellUsageError("plug")
	}
	vid, pid, err := parseShellID(args[0])
	if err != nil {
		return err
	}
	hub, port, err := s.m.port(args[1])
	if err != nil {
		return err
	}
	g, what := shellGadget(vid, pid)
	d, err := hub.Plug(port, g)
	if errors.Is(err, usbsim.ErrNotEnumerated) {
		// The cable is in; no hub driver watches the port, so no kernel
		// code ran. Binding the hub driver will enumerate it.
		fmt.Fprintf(s.out, "%s: %04x:%04x, %s: plugged in, not enumerated (no hub driver watches the port)\n", args[1], vid, pid, what)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: %04x:%04x, %s\n", d.Name(), vid, pid, what)
	return nil
}

func shellCmdUnplug(s *shellSession, args []string) error {
	if len(args) != 1 {
		return shellUsageError("unplug")
	}
	hub, port, err := s.m.port(args[0])
	if err != nil {
		return err
	}
	if hub.Connected(port) == nil {
		return fmt.Errorf("nothing plugged in at %s: %w", args[0], device.ErrNoDevice)
	}
	return hub.Unplug(port)
}

func shellCmdFeed(s *shellSession, args []string) error {
	if len(args) < 2 {
		return shellUsageError("feed")
	}
	d, err := s.m.usbDevice(args[0])
	if err != nil {
		return err
	}
	lb, ok := d.Gadget().Function.(*usbsim.Loopback)
	if !ok {
		return fmt.Errorf("%s is not a loopback device: %w", args[0], device.ErrInvalid)
	}
	data := strings.Join(args[1:], " ")
	if !roomFor(lb, len(data)) {
		return errShellBufferFull
	}
	lb.Feed([]byte(data))
	d.Kick() // the device has data: a read waiting on its bulk-in URB gets it
	fmt.Fprintf(s.out, "%s: %s to read\n", args[0], shellBytes(lb.Queued()))
	return nil
}

func shellCmdDriver(s *shellSession, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "list":
		for _, l := range shellLoadables {
			mark := " "
			if s.m.loadedDriver(l.name) != nil {
				mark = "*"
			}
			fmt.Fprintf(s.out, "%s %-15s %s\n", mark, l.name, l.about)
		}
		fmt.Fprintln(s.out, "(* loaded)")
		return nil
	case len(args) == 2 && args[0] == "load":
		if err := s.m.load(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s: loaded\n", args[1])
		return nil
	case len(args) == 2 && args[0] == "unload":
		if err := s.m.unload(args[1]); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s: unloaded\n", args[1])
		return nil
	}
	return shellUsageError("driver")
}

func shellCmdBind(s *shellSession, args []string) error {
	if len(args) != 2 {
		return shellUsageError("bind")
	}
	dev, err := s.m.device(args[1])
	if err != nil {
		return err
	}
	return s.m.sys.Bind(dev, args[0])
}

func shellCmdUnbind(s *shellSession, args []string) error {
	if len(args) != 2 {
		return shellUsageError("unbind")
	}
	dev, err := s.m.device(args[1])
	if err != nil {
		return err
	}
	if s.m.sys.FindDriver(dev.BusName(), args[0]) == nil {
		return fmt.Errorf("no driver %q on bus %s: %w", args[0], dev.BusName(), device.ErrNoEntry)
	}
	if got := dev.DriverName(); got != args[0] {
		if got == "" {
			got = "no driver"
		}
		return fmt.Errorf("%s is not bound to %s (%s): %w", dev.Name(), args[0], got, device.ErrNoDevice)
	}
	return s.m.sys.Unbind(dev)
}

func shellCmdOverride(s *shellSession, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return shellUsageError("override")
	}
	dev, err := s.m.device(args[0])
	if err != nil {
		return err
	}
	name := ""
	if len(args) == 2 {
		name = args[1]
	}
	if err := dev.SetDriverOverride(name); err != nil {
		return err
	}
	if name == "" {
		fmt.Fprintf(s.out, "%s: driver_override cleared\n", dev.Name())
	} else {
		fmt.Fprintf(s.out, "%s: driver_override=%s\n", dev.Name(), shellText(dev.DriverOverride()))
	}
	return nil
}

func shellCmdProbe(s *shellSession, args []string) error {
	if len(args) != 1 {
		return shellUsageError("probe")
	}
	dev, err := s.m.device(args[0])
	if err != nil {
		return err
	}
	bound, err := s.m.sys.Attach(dev)
	if err != nil {
		return err
	}
	if !bound {
		fmt.Fprintf(s.out, "%s: no driver bound\n", dev.Name())
	}
	return nil
}

func shellCmdNewID(s *shellSession, args []string) error {
	if len(args) != 2 {
		return shellUsageError("newid")
	}
	drv := s.m.loadedDriver(args[0])
	if drv == nil {
		return fmt.Errorf("%s is not loaded: %w", args[0], device.ErrNoEntry)
	}
	vid, pid, err := parseShellID(args[1])
	if err != nil {
		return err
	}
	return drv.NewID(vid, pid)
}

func shellNoArgs(name string, args []string) error {
	if len(args) != 0 {
		return shellUsageError(name)
	}
	return nil
}

func shellCmdDevices(s *shellSession, args []string) error {
	if err := shellNoArgs("devices", args); err != nil {
		return err
	}
	for _, d := range s.m.sys.Devices() {
		if c := d.ClassName(); c != "" { // a class device: no bus, no driver
			fmt.Fprintf(s.out, "%-12s class=%-6s dev=%-13s state=%s\n", d.Name(), c, d.Devt(), d.State())
			continue
		}
		drv := d.DriverName()
		if drv == "" {
			drv = "-"
		}
		line := fmt.Sprintf("%-12s bus=%-8s driver=%-15s state=%s", d.Name(), d.BusName(), drv, d.State())
		if o := d.DriverOverride(); o != "" {
			line += " driver_override=" + shellText(o)
		}
		fmt.Fprintln(s.out, line)
	}
	return nil
}

func shellCmdDrivers(s *shellSession, args []string) error {
	if err := shellNoArgs("drivers", args); err != nil {
		return err
	}
	for _, b := range shellBuses {
		for _, drv := range s.m.sys.Drivers(b) {
			line := fmt.Sprintf("%s/%s:", b, drv.Name)
			for _, d := range s.m.sys.BoundDevices(drv) {
				line += " " + d.Name()
			}
			fmt.Fprintln(s.out, line)
		}
	}
	return nil
}

func shellCmdNodes(s *shellSession, args []string) error {
	if err := shellNoArgs("nodes", args); err != nil {
		return err
	}
	for _, n := range s.m.nodes() {
		fmt.Fprintln(s.out, n)
	}
	return nil
}

func shellCmdOpen(s *shellSession, args []string) error {
	if len(args) != 1 {
		return shellUsageError("open")
	}
	fd, err := s.m.open(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "fd %d: %s\n", fd, args[0])
	return nil
}

// shellBytes says "1 byte", "5 bytes".
func shellBytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// shellFD parses a file descriptor argument.
func shellFD(a string) (int, error) {
	fd, err := strconv.Atoi(a)
	if err != nil || fd < 0 {
		return 0, fmt.Errorf("bad file descriptor %q: want a number, as open printed", a)
	}
	return fd, nil
}

func shellCmdRead(s *shellSession, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return shellUsageError("read")
	}
	fd, err := shellFD(args[0])
	if err != nil {
		return err
	}
	n := 64
	if len(args) == 2 {
		if n, err = strconv.Atoi(args[1]); err != nil || n < 0 {
			return shellUsageError("read")
		}
	}
	p, err := s.m.read(fd, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "fd %d: read %s: %q\n", fd, shellBytes(len(p)), p)
	return nil
}

func shellCmdWrite(s *shellSession, args []string) error {
	if len(args) < 2 {
		return shellUsageError("write")
	}
	fd, err := shellFD(args[0])
	if err != nil {
		return err
	}
	n, err := s.m.write(fd, []byte(strings.Join(args[1:], " ")))
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "fd %d: wrote %s\n", fd, shellBytes(n))
	return nil
}

func shellCmdIoctl(s *shellSession, args []string) error {
	if len(args) != 2 {
		return shellUsageError("ioctl")
	}
	fd, err := shellFD(args[0])
	if err != nil {
		return err
	}
	res, err := s.m.ioctl(fd, args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "fd %d: %s\n", fd, res)
	return nil
}

func shellCmdClose(s *shellSession, args []string) error {
	if len(args) != 1 {
		return shellUsageError("close")
	}
	fd, err := shellFD(args[0])
	if err != nil {
		return err
	}
	if err := s.m.closeFD(fd); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "fd %d: closed\n", fd)
	return nil
}

func shellCmdFiles(s *shellSession, args []string) error {
	if err := shellNoArgs("files", args); err != nil {
		return err
	}
	for _, fd := range s.m.fds() {
		fmt.Fprintf(s.out, "fd %d: %s\n", fd, s.m.files.get(fd).path)
	}
	return nil
}

// shellFlags returns a flag set for a command's options whose parse errors
// become the command's error.
func shellFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func shellCmdTree(s *shellSession, args []string) error {
	fs := shellFlags("tree")
	format := fs.String("format", "text", "text or dot")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return shellUsageError("tree")
	}
	switch *format {
	case "text":
		fmt.Fprint(s.out, s.m.sys.Tree())
	case "dot":
		fmt.Fprint(s.out, s.m.sys.DOT())
	default:
		return fmt.Errorf("unknown tree format %q (text, dot): %w", *format, device.ErrInvalid)
	}
	return nil
}

// shellBriefKinds are the kinds trace --brief leaves out.
var shellBriefKinds = []trace.Kind{trace.Notify, trace.Uevent, trace.Lock, trace.DeviceRef}

func shellCmdTrace(s *shellSession, args []string) error {
	fs := shellFlags("trace")
	format := fs.String("format", "text", "text, json or mermaid")
	since := fs.Int64("since", -1, "show the events after this sequence number")
	all := fs.Bool("all", false, "show every event since boot")
	brief := fs.Bool("brief", false, "leave out notifier, uevent, lock and refcount lines")
	mark := fs.Bool("mark", false, "show nothing: the next trace starts here")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || (*all && flagSet(fs, "since")) {
		return shellUsageError("trace")
	}
	if flagSet(fs, "since") && *since < 0 {
		return fmt.Errorf("--since %d: want a sequence number, 0 or more: %w", *since, device.ErrInvalid)
	}
	if *mark {
		s.mark = s.m.sys.Log().Seq()
		return nil
	}
	f, err := trace.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("unknown trace format %q (text, json, mermaid): %w", *format, device.ErrInvalid)
	}
	log := s.m.sys.Log()
	from := s.mark
	switch {
	case *all:
		from = 0
	case *since >= 0:
		from = uint64(*since)
	}
	events := log.Since(from)
	s.mark = log.Seq()
	if len(events) > 0 && events[0].Seq > from+1 {
		fmt.Fprintf(s.errw, "note: trace: events %d to %d are gone: the machine keeps the newest %d (drvsim shell -trace-limit N)\n",
			from+1, events[0].Seq-1, s.m.traceLimit)
	}
	if *brief {
		events = trace.Filter(events, func(e trace.Event) bool {
			for _, k := range shellBriefKinds {
				if e.Kind == k {
					return false
				}
			}
			return true
		})
	}
	return trace.Write(s.out, f, events)
}

func shellCmdQuit(s *shellSession, args []string) error {
	if err := shellNoArgs("quit", args); err != nil {
		return err
	}
	s.quit = true
	return nil
}
