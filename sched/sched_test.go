package sched_test

import (
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sched"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestPointString(t *testing.T) {
	assert.Equal(t, "srcu_read_lock", sched.Point{Kind: "srcu_read_lock"}.String())
	assert.Equal(t, "device_lock really_probe /sys/devices/platform/a",
		sched.Point{Kind: "device_lock", Func: "really_probe", Obj: "/sys/devices/platform/a"}.String())
	assert.Equal(t, "probe:uart", sched.Probe("uart"))
}

func TestPointStringDropsRepeatedFunc(t *testing.T) {
	assert.Equal(t, "mutex_lock io_mutex", sched.Point{Kind: "mutex_lock", Func: "mutex_lock", Obj: "io_mutex"}.String())
	assert.Equal(t, "probe call_driver_probe /sys/devices/x", sched.Point{Kind: "probe", Func: "call_driver_probe", Obj: "/sys/devices/x"}.String())
	assert.Equal(t, "yield", sched.Point{Kind: "yield"}.String())
}
