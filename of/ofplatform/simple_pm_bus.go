package ofplatform

import (
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/of"
)

// SimpleBusDriverName is the name of the kernel's driver for bus nodes
// (drivers/bus/simple-pm-bus.c).
const SimpleBusDriverName = "simple-pm-bus"

// onlyBus marks the table entries whose children Populate makes already.
type onlyBus struct{}

// NewSimpleBusDriver returns the simple-pm-bus driver: it binds the
// devices of simple-bus and simple-mfd nodes (their children populated at
// boot) so that the SYNC_STATE_ONLY links fw_devlink makes for their
// children's suppliers go when it binds, and populates the children of a
// simple-pm-bus node itself. Populate registers one per machine.
func NewSimpleBusDriver() *driver.Driver {
	drv := platform.NewDriver(SimpleBusDriverName, func(dev *device.Device) error {
		if _, ok := of.DeviceGetMatchData(dev).(onlyBus); ok {
			return nil // all done: of_platform_populate made the children
		}
		return PopulateNode(of.NodeOf(dev), nil, dev)
	}, func(dev *device.Device) {
		if _, ok := of.DeviceGetMatchData(dev).(onlyBus); !ok {
			_ = Depopulate(dev)
		}
	})
	drv.OFMatchTable = []driver.OFDeviceID{
		{Compatible: "simple-pm-bus"},
		{Compatible: "simple-bus", Data: onlyBus{}},
		{Compatible: "simple-mfd", Data: onlyBus{}},
		{Compatible: "isa", Data: onlyBus{}},
		{Compatible: "arm,amba-bus", Data: onlyBus{}},
	}
	return drv
}

// registerSimpleBus registers the simple-pm-bus driver on c unless a
// driver of that name is there.
func registerSimpleBus(c *bus.Core) error {
	if c.FindDriver(platform.Name, SimpleBusDriverName) != nil {
		return nil
	}
	return c.RegisterDriver(NewSimpleBusDriver())
}
