package zoo

import (
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/i2csim"
	"github.com/drvsim/drvsim/drivers/powersupplysim"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo/bq24190"
)

func bq24190Work() *Bug {
	b := &Bug{
		Name:      "bq24190-work",
		Subsystem: "power supply, bq24190 charger (I2C)",
		Commit:    "47c29d69212911f50bdcdd0564b5999a559010d4",
		Subject:   "power: supply: bq24190: Fix use after free bug in bq24190_remove due to race condition",
		Author:    "Zheng Wang, 2023-03",
		Report: "use-after-free in bq24190_input_current_limit_work: the work reads the supplier's " +
			"current limit through the charger's struct power_supply, which power_supply_unregister " +
			"freed in bq24190_remove (the commit's sequence: CPU1 in the work, CPU0 removing).",
		Race: "A supply feeding the charger changes: the power-supply core calls the charger's " +
			"external_power_changed, which queues input_current_limit_work for 300 ms later. " +
			"T1 (the work) asks the supplier for its current limit | T2 (rmmod) bq24190_remove " +
			"unregisters the charger (its struct power_supply is freed with its device) and " +
			"devres frees the driver state | T1 programs the limit through bdi->charger: freed.",
		Fix: "cancel_delayed_work_sync(&bdi->input_current_limit_work) first thing in " +
			"bq24190_remove: a pending work is cancelled, a running one waited for.",
		Notes: "Runtime PM, sysfs, extcon and the VBUS regulator are left out. The scenario starts " +
			"the removal once the work runs, the commit's sequence. A supply change that calls " +
			"external_power_changed after the cancel but before power_supply_unregister would " +
			"queue the work again; the fixed driver does not guard that window, and the scenario " +
			"does not open it.",
	}
	pair(b, "bq24190 charger", [2]string{
		"A Type-C supplier changes while the bq24190 driver is removed: its input_current_limit_work " +
			"runs during bq24190_remove, which does not stop it, and touches the freed supply.",
		"The same race with the fix: bq24190_remove cancels the work, waiting for it, before " +
			"unregistering the supplies; no schedule touches freed memory.",
	}, sim.BugUseAfterFree, bq24190Run)
	return b
}

// bq24190Run is one run: a bq24190 on I2C adapter i2c-0 at 0x6b, its
// driver bound, and a Type-C port's supply feeding it. Task "typec": the
// port's supply changes (power_supply_changed). Task "rmmod": once the
// charger's work has asked the port for its current limit, the driver
// is removed (i2c_del_driver), then the port's supply goes.
func bq24190Run(s *sim.Sim, sys *drvsim.System, fixed bool) {
	i2c, err := i2csim.Init(sys)
	must(err)
	adap, err := i2c.AddAdapter(nil, "sim-i2c")
	must(err)
	adap.Connect(0x6b, bq24190.NewChip())
	port := sys.NewPlatformDevice("typec")
	must(sys.RegisterDevice(port))
	var asked atomic.Bool
	usb, err := powersupplysim.Register(port, &powersupplysim.Desc{
		Name: "tcpm-source-psy", Type: powersupplysim.TypeUSB,
		GetProperty: func(_ *powersupplysim.PowerSupply, p powersupplysim.Property) (int, error) {
			if p != powersupplysim.PropCurrentMax {
				return 0, powersupplysim.ErrNoData
			}
			asked.Store(true)
			return 3000000, nil
		},
	}, &powersupplysim.Config{SuppliedTo: []string{bq24190.ChargerName}})
	must(err)
	v := bq24190.Before
	if fixed {
		v = bq24190.After
	}
	drv := bq24190.Driver(v)
	must(i2c.AddDriver(drv))
	if _, err := adap.NewClient(i2csim.BoardInfo{Type: "bq24190", Addr: 0x6b, IRQ: 42}); err != nil {
		panic(err)
	}
	s.Go("typec", func() { usb.Changed() })
	s.Go("rmmod", func() {
		s.Block(sched.Wait{What: "input_current_limit_work asking tcpm-source-psy"}, asked.Load)
		must(i2c.DelDriver(drv))
		usb.Unregister()
	})
}
