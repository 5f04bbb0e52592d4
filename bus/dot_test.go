package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
)

// DOT draws devices as nodes (bus, driver; unbound ones grey), parent->child
// edges and device links as dashed consumer->supplier edges, in
// registration order.
func TestDOT(t *testing.T) {
	c, b := newCore(t)
	release := device.WithRelease(func(*device.Device) {})
	soc := platform.NewDevice(b, "soc", release)
	require.NoError(t, c.RegisterDevice(soc))
	i2c := platform.NewDevice(b, "i2c0", device.WithParent(soc), release)
	require.NoError(t, c.RegisterDevice(i2c))
	codec := platform.NewDevice(b, "codec", device.WithParent(soc), release)
	require.NoError(t, c.RegisterDevice(codec))
	require.NoError(t, c.RegisterDriver(platform.NewDriver("i2c0", nil, nil)))
	_, err := c.AddLink(codec, i2c, device.LinkAutoremoveConsumer)
	require.NoError(t, err)

	want := `digraph devices {
	rankdir=TB;
	node [shape=box, style=rounded, fontname="monospace"];
	"/sys/devices/platform/soc" [label="soc\nbus=platform\nno driver", color=grey, fontcolor=grey];
	"/sys/devices/platform/soc/i2c0" [label="i2c0\nbus=platform\ndriver=i2c0"];
	"/sys/devices/platform/soc/codec" [label="codec\nbus=platform\nno driver", color=grey, fontcolor=grey];
	"/sys/devices/platform/soc" -> "/sys/devices/platform/soc/i2c0";
	"/sys/devices/platform/soc" -> "/sys/devices/platform/soc/codec";
	"/sys/devices/platform/soc/codec" -> "/sys/devices/platform/soc/i2c0" [style=dashed, constraint=false, label="AUTOREMOVE_CONSUMER"];
}
`
	assert.Equal(t, want, c.DOT())
	assert.Equal(t, c.DOT(), c.DOT(), "deterministic")

	require.NoError(t, c.UnregisterTree(soc))
	odd := platform.NewDevice(b, `say"hi\`, release)
	require.NoError(t, c.RegisterDevice(odd))
	assert.Contains(t, c.DOT(), `"/sys/devices/platform/say\"hi\\\\" [label="say\"hi\\\\\nbus=platform\nno driver"`,
		"IDs and labels are escaped: trace.Escape, then DOT's quote and backslash")
	require.NoError(t, c.UnregisterDevice(odd))
	assert.Equal(t, "digraph devices {\n\trankdir=TB;\n\tnode [shape=box, style=rounded, fontname=\"monospace\"];\n}\n", c.DOT(),
		"an empty core is an empty graph")
}
