// Package scenarios is drvsim's one registry of scenarios: every
// sim.Scenario the project declares, in a fixed order. `drvsim explore
// NAME` runs the scenario Lookup finds, the demos and the docs take theirs
// from here, and the registry's own test explores each one within its
// default settings and checks the outcome it predicts.
//
// The scenarios stay with the code they exercise; each package declares
// its own (Scenarios functions) and this package lists them:
//
//   - revocable/kernelmodel: the design lab (v3-*, merged-*, drvsim-*);
//   - drivers/usbsim/scenario: the USB skeleton unplugged mid-read
//     (usb-skel-*);
//   - drivers/sensor/scenario: a platform character driver's read racing
//     its unbind (sensor-*), the devm-embedded cdev among them;
//   - drivers/drmsim/udlsim/scenario: a DisplayLink flush racing the
//     unplug (drm-udl-*);
//   - lifecycle: the driver core's races (async-*,
//     revocable-readers-vs-unregister);
//   - of/scenario: the device tree's (dt-*): an overlay removed under an
//     open file, an overlay plugged and unplugged around an open, a
//     supplier unbound while its consumer probes.
//   - pm/scenario: power management's races (pm-*).
//   - zoo: the bug zoo's real kernel bugs, each before and after its fix
//     (NAME-before, NAME-after).
package scenarios

import (
	udlscenario "github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	sensorscenario "github.com/drvsim/drvsim/drivers/sensor/scenario"
	usbscenario "github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/lifecycle"
	dtscenario "github.com/drvsim/drvsim/of/scenario"
	pmscenario "github.com/drvsim/drvsim/pm/scenario"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo"
)

// All returns every registered scenario, in registry order: the design
// lab's, the USB ones, the sensor's, the DRM ones, the driver core's, the
// device tree's, power management's, then the bug zoo's. The slice is the
// caller's.
func All() []sim.Scenario {
	var out []sim.Scenario
	for _, group := range [][]sim.Scenario{
		kernelmodel.Scenarios(),
		usbscenario.Scenarios(),
		sensorscenario.Scenarios(),
		udlscenario.Scenarios(),
		lifecycle.Scenarios(),
		dtscenario.Scenarios(),
		pmscenario.Scenarios(),
		zoo.Scenarios(),
	} {
		out = append(out, group...)
	}
	return out
}

// Lookup returns the scenario named name.
func Lookup(name string) (sim.Scenario, bool) {
	for _, sc := range All() {
		if sc.Name == name {
			return sc, true
		}
	}
	return sim.Scenario{}, false
}

// Names returns the registered scenario names, in registry order.
func Names() []string {
	all := All()
	out := make([]string, len(all))
	for i, sc := range all {
		out[i] = sc.Name
	}
	return out
}
