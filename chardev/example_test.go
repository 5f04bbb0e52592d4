package chardev_test

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// A character device from numbers to close: alloc_chrdev_region, a cdev
// with the driver's file operations, a class and its device (the /dev
// node), open(2) and read(2). cdev_del while the file is open: a new open
// of the number fails with -ENXIO, the open file keeps the old operations
// until its last close.
func Example() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	parent := sys.NewPlatformDevice("sensor")
	if err := sys.RegisterDevice(parent); err != nil {
		panic(err)
	}

	devt, _ := chardev.AllocRegion(sys, 0, 1, "sensor")        // alloc_chrdev_region
	cdev := chardev.CdevAlloc(parent, &chardev.FileOperations{ // cdev_alloc, cdev->ops
		Read: func(f *chardev.File, n int) ([]byte, error) { return []byte("42\n")[:min(n, 3)], nil },
	})
	if err := cdev.Add(devt, 1); err != nil { // cdev_add
		panic(err)
	}
	class, _ := chardev.CreateClass(sys, "sensor")                 // class_create
	_, err := class.CreateDevice(parent, devt, nil, "sensor%d", 0) // device_create: /dev/sensor0
	if err != nil {
		panic(err)
	}

	f, err := chardev.Open(sys, "/dev/sensor0") // open(2): chrdev_open
	if err != nil {
		panic(err)
	}
	b, _ := f.Read(16) // read(2): vfs_read -> fops.Read
	fmt.Printf("read %q\n", b)

	class.DestroyDevice(devt) // device_destroy: the node goes
	cdev.Del()                // cdev_del: the number is unmapped
	_, err = chardev.OpenDevt(sys, devt)
	fmt.Println("open after cdev_del is -ENXIO:", errors.Is(err, chardev.ErrNoDeviceOrAddress))
	b, _ = f.Read(16)
	fmt.Printf("the open file still reads %q\n", b)
	f.Close() // close(2): __fput, then the cdev's last reference

	for _, e := range trace.Filter(sys.Events(), func(e trace.Event) bool {
		return e.Kind == chardev.Kind || e.Kind == chardev.KindClass || e.Func == "devtmpfs_create_node" || e.Func == "devtmpfs_delete_node"
	}) {
		fmt.Println(e.Short())
	}
	fmt.Println("leaks:", len(sys.Memory().Leaks()))
	// Output:
	// read "42\n"
	// open after cdev_del is -ENXIO: true
	// the open file still reads "42\n"
	// alloc_chrdev_region: "sensor" 254:0
	// cdev_add: 254:0
	// class_register /sys/class/sensor
	// devtmpfs_create_node /sys/devices/platform/sensor/sensor/sensor0: /dev/sensor0 254:0
	// chrdev_open /dev/sensor0: 0
	// vfs_read /dev/sensor0: 3 bytes
	// devtmpfs_delete_node /sys/devices/platform/sensor/sensor/sensor0: /dev/sensor0
	// cdev_del: 254:0, 1 file reference(s) left
	// chrdev_open /dev/char/254:0: -ENXIO
	// vfs_read /dev/sensor0: 3 bytes
	// __fput /dev/sensor0: release 0
	// leaks: 0
}

// The pattern for a driver that embeds its cdev and its device in one
// structure (cdev_device_add): the cdev holds the device, so the structure,
// freed by the device's release, outlives every open file, even when the
// driver is gone.
func ExampleCdev_DeviceAdd() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	type gpiochip struct {
		mem  *env.Object // the kzalloc'ed struct itself
		cdev chardev.Cdev
		dev  *device.Device
	}
	class, _ := chardev.CreateClass(sys, "gpio")
	devt, _ := chardev.AllocRegion(sys, 0, 1, "gpiochip")

	g := &gpiochip{mem: sys.Memory().Alloc("struct gpiochip")}
	g.cdev.Init(sys, &chardev.FileOperations{}) // cdev_init
	g.cdev.EmbedIn(g.mem)
	g.dev = device.New("gpiochip0", device.WithClass(class), device.WithDevt(devt),
		device.WithRelease(func(*device.Device) { g.mem.Free() })) // the struct goes with the device
	if err := sys.InitializeDevice(g.dev); err != nil { // device_initialize
		panic(err)
	}
	if err := g.cdev.DeviceAdd(g.dev); err != nil { // cdev_device_add: /dev/gpiochip0
		panic(err)
	}

	f, _ := chardev.Open(sys, "/dev/gpiochip0")
	g.cdev.DeviceDel(g.dev) // the driver goes: cdev_device_del ...
	g.dev.Put()             // ... and put_device
	fmt.Println("freed while the file is open:", g.mem.Freed())
	f.Close() // the last fput: cdev_put, then the device's release
	fmt.Println("freed after the close:", g.mem.Freed())
	fmt.Println("reports:", len(sys.Memory().Reports()))
	// Output:
	// freed while the file is open: false
	// freed after the close: true
	// reports: 0
}

// A driver's file operations under active references: cdev_del of a cdev
// initialised with the proxy revokes them (cdev_revoke), so the driver's
// release runs for the open file at the revoke, later calls fail with
// -ENODEV without reaching the driver, and the file no longer holds the
// cdev: the memory the cdev is embedded in may be freed at once.
func ExampleNewActive() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	state := sys.Memory().Alloc("struct my_dev") // the driver's, embedding the cdev
	a := chardev.NewActive(sys, "mydev0", &chardev.FileOperations{
		Read: func(f *chardev.File, n int) ([]byte, error) {
			state.Access("my_read")
			return []byte("ok"), nil
		},
		Release: func(*chardev.File) error { fmt.Println("driver release"); return nil },
	})
	var cdev chardev.Cdev
	cdev.Init(sys, a.Fops()) // cdev_init with the proxy
	cdev.EmbedIn(state)
	devt := device.MkDev(240, 0)
	if err := cdev.Add(devt, 1); err != nil {
		panic(err)
	}
	f, _ := chardev.OpenDevt(sys, devt)
	b, _ := f.Read(2)
	fmt.Printf("read %q\n", b)

	cdev.Del()   // cdev_del: revokes the file operations, releases the file
	state.Free() // the driver frees its struct, cdev included
	_, err := f.Read(2)
	fmt.Println("read after cdev_del:", errors.Is(err, chardev.ErrNoDevice))
	f.Close() // runs nothing of the driver's, touches no freed memory
	fmt.Println("reports:", len(sys.Memory().Reports()), "leaks:", len(sys.Memory().Leaks()))
	// Output:
	// read "ok"
	// driver release
	// read after cdev_del: true
	// reports: 0 leaks: 0
}
