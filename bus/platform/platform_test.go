package platform_test

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/driver"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestMatchAndUevent(t *testing.T) {
	b := platform.NewBus()
	dev := platform.NewDevice(b, "serial8250.1")
	assert.Equal(t, "/sys/devices/platform/serial8250.1", dev.Path())
	assert.True(t, platform.Match(dev, &driver.Driver{Name: "serial8250"}))
	assert.False(t, platform.Match(dev, &driver.Driver{Name: "serial"}))
	d := &driver.Driver{Name: "uart", IDTable: []driver.ID{{Name: "serial8250", Data: 7}}}
	assert.True(t, platform.Match(dev, d))
	id, ok := platform.ID(dev, d)
	assert.True(t, ok)
	assert.Equal(t, 7, id.Data)
	assert.Equal(t, []string{"MODALIAS=platform:serial8250"}, platform.Uevent(dev))
	drv := platform.NewDriver("x", nil, nil)
	assert.Equal(t, platform.Name, drv.Bus)
}

// platform_match: a driver with an id table matches through the table only;
// the driver-name fallback is for drivers without one.
func TestMatchIDTableExcludesNameFallback(t *testing.T) {
	b := platform.NewBus()
	dev := platform.NewDevice(b, "rtc.0")
	withTable := &driver.Driver{Name: "rtc", IDTable: []driver.ID{{Name: "rtc-v2"}}}
	assert.False(t, platform.Match(dev, withTable))
	assert.True(t, platform.Match(platform.NewDevice(b, "rtc-v2"), withTable))
	assert.True(t, platform.Match(dev, &driver.Driver{Name: "rtc"}))
}
