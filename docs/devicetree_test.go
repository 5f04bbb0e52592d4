package docs_test

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/board"
	"github.com/drvsim/drvsim/of/dtc"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// devicetree.md: the parser's message for a source with a mistake.
func dtParseError() (string, error) {
	src := "/dts-v1/;\n/ {\n\tsensor@48 {\n\t\tcompatible = \"acme,tmp117\";\n\t\tvdd-supply = <&vdd_3v3>;\n\t};\n};\n"
	_, err := dtc.Parse("board.dts", []byte(src))
	if err == nil {
		return "", fmt.Errorf("no error")
	}
	_, err2 := dtc.Parse("board.dts", []byte(strings.Replace(src, `"acme,tmp117";`, `"acme,tmp117"`, 1)))
	return err.Error() + "\n" + err2.Error() + "\n", nil
}

// dtBoot boots package board's board and returns the System and the
// events of the boot.
func dtBoot() (*drvsim.System, []trace.Event, error) {
	sys := drvsim.NewSystem()
	b, err := board.Register(sys)
	if err != nil {
		sys.Close()
		return nil, nil, err
	}
	seq := sys.Log().Seq()
	if err := b.Boot(board.Source); err != nil {
		sys.Close()
		return nil, nil, err
	}
	return sys, sys.Log().Since(seq), nil
}

// devicetree.md: the board's boot, cut to fw_devlink's steps and the
// binds.
func dtBootLinks() (string, error) {
	sys, evs, err := dtBoot()
	if err != nil {
		return "", err
	}
	defer sys.Close()
	keep := map[string]bool{"fwnode_link_add": true, "device_link_add": true, "driver_bound": true,
		"device_links_driver_bound": true, "dev_sync_state": true, "of_platform_device_create": true}
	return trace.Text(trace.Filter(evs, func(e trace.Event) bool { return keep[e.Func] })), nil
}

// devicetree.md: the device hierarchy and links after the boot.
func dtBootTree() (string, error) {
	sys, _, err := dtBoot()
	if err != nil {
		return "", err
	}
	defer sys.Close()
	return sys.Tree(), nil
}

// devicetree.md: a consumer added before its supplier (examples/dt-sensor).
func dtWaitForSupplier() (string, error) {
	out, err := exampleOutput("dt-sensor")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).
		span("device_initialize /sys/devices/platform/2000.sensor", "driver_deferred_probe_add /sys/devices/platform/2000.sensor").
		from("device_link_add /sys/devices/platform/2000.sensor: supplier=/sys/devices/platform/regulator", 1).
		from("driver_bound /sys/devices/platform/regulator", 5).text()
}

// devicetree.md: two nodes naming each other.
func dtCycle() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	for _, c := range []string{"a", "b"} {
		d := platform.NewDriver("drv-"+c, nil, nil)
		d.OFMatchTable = []driver.OFDeviceID{{Compatible: "acme," + c}}
		if err := sys.RegisterDriver(d); err != nil {
			return "", err
		}
	}
	_, err := of.Load(sys, "cycle.dts", []byte(`/dts-v1/;
/ {
	a: a { compatible = "acme,a"; #clock-cells = <0>; clocks = <&b>; };
	b: b { compatible = "acme,b"; #clock-cells = <0>; clocks = <&a>; };
};`))
	if err != nil {
		return "", err
	}
	seq := sys.Log().Seq()
	if err := ofplatform.Populate(sys); err != nil {
		return "", err
	}
	keep := map[string]bool{"fwnode_link_add": true, "device_link_add": true, "driver_bound": true,
		"fw_devlink_create_devlink": true, "fw_devlink_relax_link": true, "device_links_check_suppliers": true}
	return trace.Text(trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool { return keep[e.Func] })), nil
}

// devicetree.md: a consumer without a driver at the deferred-probe
// timeout, in both sync_state modes.
func dtSyncStateTimeout() (string, error) {
	var b strings.Builder
	for _, mode := range []bus.SyncStateMode{bus.SyncStateStrict, bus.SyncStateTimeout} {
		sys := drvsim.NewSystem()
		sys.SetFwDevlinkSyncState(mode)
		reg := platform.NewDriver("reg-fixed", nil, nil)
		reg.OFMatchTable = []driver.OFDeviceID{{Compatible: "regulator-fixed"}}
		reg.SyncState = func(*device.Device) {}
		if err := sys.RegisterDriver(reg); err != nil {
			sys.Close()
			return "", err
		}
		_, err := of.Load(sys, "board.dts", []byte(`/dts-v1/;
/ {
	vdd: regulator { compatible = "regulator-fixed"; };
	codec { compatible = "acme,codec"; vdd-supply = <&vdd>; };
};`))
		if err == nil {
			err = ofplatform.Populate(sys)
		}
		if err != nil {
			sys.Close()
			return "", err
		}
		seq := sys.Log().Seq()
		sys.Advance(bus.DefaultDeferredProbeTimeout)
		fmt.Fprintf(&b, "fw_devlink.sync_state=%s:\n", map[bus.SyncStateMode]string{bus.SyncStateStrict: "strict", bus.SyncStateTimeout: "timeout"}[mode])
		b.WriteString(trace.Text(trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool {
			return e.Func == "fw_devlink_dev_sync_state" || e.Func == "dev_sync_state" || e.Func == "deferred_probe_timeout_work_func"
		})))
		sys.Close()
	}
	return b.String(), nil
}

// devicetree.md: the sensor overlay removed while /dev/sensor1 is open.
func dtOverlayRemove() (string, error) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	b, err := board.Register(sys)
	if err != nil {
		return "", err
	}
	if err := b.Boot(board.Source); err != nil {
		return "", err
	}
	ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
	if err != nil {
		return "", err
	}
	f, err := chardev.Open(sys, "/dev/sensor1")
	if err != nil {
		return "", err
	}
	seq := sys.Log().Seq()
	if err := b.Tree().RemoveOverlay(ov.ID()); err != nil {
		return "", err
	}
	if _, err := f.Read(4); err == nil {
		return "", fmt.Errorf("read after removal succeeded")
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	keep := map[trace.Kind]bool{of.Kind: true, trace.DeviceDel: true, trace.Unbind: true, trace.Remove: true,
		trace.Revoke: true, trace.DeviceRelease: true, chardev.Kind: true, trace.Link: true}
	return trace.Text(trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool {
		return keep[e.Kind] && !(e.Func == "of_reconfig_notify" && strings.Contains(e.Msg, "PROPERTY"))
	})), nil
}

// devicetree.md: the registered scenarios explored.
func dtExplore() (string, error) {
	var b strings.Builder
	for _, name := range []string{"dt-overlay-remove-open-file", "dt-overlay-hotplug-vs-open", "dt-supplier-unbind-vs-probe", "dt-overlay-remove-unsafe-sensor"} {
		sc, ok := scenarios.Lookup(name)
		if !ok {
			return "", fmt.Errorf("no scenario %s", name)
		}
		cfg := sc.Config()
		cfg.Config = sim.Config{Test: "TestPredictedOutcomes/" + name, Pkg: "./scenarios"}
		res := sc.Explore(cfg)
		if err := sc.Check(res); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s:\n", name)
		if res.Failed() {
			b.WriteString(reportExcerpt(res.String(), true, 2, 1, 2))
			continue
		}
		first, _, _ := strings.Cut(res.String(), "\n")
		b.WriteString("  " + first + "\n")
		for _, e := range sc.Want.Endings {
			fmt.Fprintf(&b, "  %4d  %s\n", res.Endings[e], e)
		}
	}
	return b.String(), nil
}

// examples.md: dt-sensor's output from the regulator driver's arrival on.
func exampleDTSensor() (string, error) {
	out, err := exampleOutput("dt-sensor")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).span("regulator driver:", "").text()
}

// devicetree.md: the demo's last phases (drvsim demo devicetree).
func cliDevicetreeDemo() (string, error) {
	out, err := cliOutput("demo", "devicetree")
	if err != nil {
		return "", err
	}
	return newExcerpt(out).line("drvsim demo devicetree:").span("== 8.", "dev_info /sys/devices/platform/regulator-3v3: sync_state").text()
}
