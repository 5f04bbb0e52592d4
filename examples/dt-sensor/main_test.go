package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/examples/internal/outcheck"
	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestDTSensor(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	out := buf.String()

	// The sensor waits for its regulator: first for its device, then for
	// its driver; its probe is not called.
	outcheck.RequireInOrder(t, out,
		"fwnode_link_add /sensor@2000: supplier=/regulator",
		"device_links_check_suppliers /sys/devices/platform/2000.sensor: wait for supplier /regulator",
		"device_link_add /sys/devices/platform/2000.sensor: supplier=/sys/devices/platform/regulator flags=AUTOPROBE_CONSUMER|INFERRED",
		"waiting: 2000.sensor",
	)
	require.NotContains(t, out[:bytes.Index(buf.Bytes(), []byte("regulator driver:"))], "really_probe /sys/devices/platform/2000.sensor")

	// The regulator binds; the sensor is probed with the best match's
	// data, its properties and its interrupt.
	outcheck.RequireInOrder(t, out,
		"driver_bound /sys/devices/platform/regulator: driver=reg-fixed: bound",
		"really_probe /sys/devices/platform/2000.sensor: bus=platform driver=tmp117",
		"devm_request_irq: irq 17 tmp117",
		"dev_info /sys/devices/platform/2000.sensor: tmp117 (0.0078 °C, ±0.1 °C), 8 Hz, irq 17, powered by regulator",
		"samples: 2",
	)

	// Unbinding the regulator unbinds the sensor first; devres frees the
	// interrupt.
	outcheck.RequireInOrder(t, out,
		"device_links_unbind_consumers /sys/devices/platform/2000.sensor: supplier regulator is unbinding",
		"device_remove /sys/devices/platform/2000.sensor: driver=tmp117",
		"free_irq: irq 17 tmp117",
		"__device_release_driver /sys/devices/platform/regulator: driver=reg-fixed",
		"sensor: added, irq 17 requested: false",
	)
}

// The output is the same on every run and is testdata/output.golden.
func TestDTSensorGolden(t *testing.T) {
	out := outcheck.AsProgram(outcheck.RunTwice(t, run), "dt-sensor")
	outcheck.Golden(t, filepath.Join("testdata", "output.golden"), out)
}
