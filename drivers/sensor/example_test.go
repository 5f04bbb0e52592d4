package sensor_test

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/sensor"
)

// Load the sensor module in its devm-embedded-cdev form, bind a sensor,
// open /dev/sensor0 and unbind the device with the file open: the file's
// close touches the freed struct that embedded the cdev, and the
// sanitizer says so. The drain form of the same driver is clean.
func ExampleInit() {
	for _, v := range []sensor.Variant{sensor.DevmCdev, sensor.Drain} {
		sys := drvsim.NewSystem()
		if _, err := sensor.Init(sys, v); err != nil {
			panic(err)
		}
		pdev := sys.NewPlatformDevice("sensor")
		if err := sys.RegisterDevice(pdev); err != nil {
			panic(err)
		}
		f, _ := chardev.Open(sys, sensor.Node)
		_ = sys.UnregisterDevice(pdev)
		f.Close()
		fmt.Printf("%s: %d report(s)", v, len(sys.Memory().Reports()))
		for _, r := range sys.Memory().Reports() {
			fmt.Printf(": %s", r.Title)
		}
		fmt.Println()
		sys.Close()
	}
	// Output:
	// sensor-devm-cdev: 1 report(s): BUG: KASAN: use-after-free in __fput: cdev_put(inode->i_cdev)
	// sensor-drain: 0 report(s)
}
