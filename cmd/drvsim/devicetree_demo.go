package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of/board"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/trace"
)

// brief leaves out the bus notifier, uevent, device lock and refcount
// events (the shell's trace --brief): the device-tree demo's phases are
// long enough without them.
func brief(evs []trace.Event) []trace.Event {
	return trace.Filter(evs, func(e trace.Event) bool {
		for _, k := range shellBriefKinds {
			if e.Kind == k {
				return false
			}
		}
		return true
	})
}

// devIs matches the first event of fn about a device whose path ends in
// name.
func devIs(fn, name string) func(trace.Event) bool {
	return func(e trace.Event) bool { return e.Func == fn && strings.HasSuffix(e.Dev, "/"+name) }
}

// demoDevicetree boots package board's board from its device tree, shows
// fw_devlink ordering the probes and sync_state coming last, then plugs
// and unplugs a sensor with an overlay while its file is open.
func demoDevicetree(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()

	s.step("the board's drivers register, consumers' first (sensor, LED, I2C), suppliers' last; no device yet")
	b, err := board.Register(sys)
	if err != nil {
		return err
	}
	s.events(brief(sys.since()))

	if err := b.Boot(board.Source); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(brief(sys.since()), []scenario.Marker{
		{Heading: "the bootloader's tree is unflattened (board.dts)", Match: funcIs("unflatten_device_tree")},
		{Heading: "of_platform_populate, sync_state paused: the regulator's device is made and binds at once",
			Match: funcIs("of_platform_populate")},
		{Heading: "soc's device: fw_devlink parses the subtree's phandles (*-supply, *-gpios, interrupts) into fwnode links; " +
			"soc waits for its driver", Match: devIs("device_initialize", "soc")},
		{Heading: "the GPIO controller names no supplier: it binds", Match: devIs("device_initialize", "10000000.gpio")},
		{Heading: "the I2C controller is linked to the regulator; its probe populates sensor@48, linked to both its suppliers, " +
			"which binds", Match: devIs("device_initialize", "10001000.i2c")},
		{Heading: "the LED: its suppliers are bound, it binds", Match: devIs("device_initialize", "10002000.led")},
		{Heading: "the simple-pm-bus driver binds soc, its proxy link to the regulator goes; the resume runs the regulator's sync_state",
			Match: funcIs("driver_register")},
	}))
	reg := ofplatform.FindDevice(b.Tree().FindByPath("/regulator-3v3"))
	if reg == nil || !sys.StateSynced(reg) {
		return errors.New("the regulator's sync_state did not run")
	}
	s.notes(sys.tree())

	s.step("interrupt 5 fires (the GPIO controller's line 5): the sensor's handler counts it; /dev/sensor0 reads the tmp117's 21.5 °C")
	if err := kernel.RaiseIRQ(sys, 5); err != nil {
		return err
	}
	sample, err := readSensor(sys, "/dev/sensor0")
	if err != nil {
		return err
	}
	s.events(brief(sys.since()))
	samples := board.Samples(sys.FindDevice("platform", "10001000.i2c:sensor@48"))
	sys.since() // Samples' own read section
	if samples != 1 || sample != 21500 {
		return fmt.Errorf("samples %d, reading %d, want 1 and 21500", samples, sample)
	}
	s.notes(fmt.Sprintf("samples: %d, /dev/sensor0: %d m°C", samples, sample))

	s.step("of_overlay_fdt_apply: sensor@49 is attached below the populated I2C controller; of_platform_notify makes its device, which binds")
	ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
	if err != nil {
		return err
	}
	s.events(brief(sys.since()))

	f, err := chardev.Open(sys, "/dev/sensor1")
	if err != nil {
		return err
	}
	sys.since()
	s.step("/dev/sensor1 is open; of_overlay_remove: the node is detached, its device destroyed: remove(), then devres revokes the sensor")
	if err := b.Tree().RemoveOverlay(ov.ID()); err != nil {
		return err
	}
	s.events(brief(sys.since()))

	s.step("the open file answers -ENODEV and closes cleanly: nothing freed is touched")
	_, rerr := f.Read(4)
	if !errors.Is(rerr, device.ErrNoDevice) {
		return fmt.Errorf("read after removal: %v, want -ENODEV", rerr)
	}
	if err := f.Close(); err != nil {
		return err
	}
	s.events(brief(sys.since()))
	if r := sys.Memory().Reports(); len(r) > 0 {
		return fmt.Errorf("the sanitizer reported: %s", r[0].Title)
	}
	s.notes("read: "+device.ErrnoName(rerr), sys.tree())
	return nil
}

// readSensor reads one sample from a sensor node.
func readSensor(sys *platformSystem, path string) (int32, error) {
	f, err := chardev.Open(sys, path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := f.Read(4)
	if err != nil {
		return 0, err
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("%s: short read", path)
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}
