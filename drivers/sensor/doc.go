// Package sensor is a platform character driver written four ways: a
// sensor whose registers are read through /dev/sensor0, each variant
// tying its character device to its state differently, for teaching the
// classic lifetime bug of character drivers and its fixes.
//
//   - Refcounted is the kernel's recommended pattern: the driver's struct
//     embeds the cdev and the class device; cdev_device_add makes the cdev
//     hold the device, and the struct is freed by the device's release,
//     when the last open file lets go of it; the file operations check a
//     gone flag under the driver's mutex.
//   - Revocable puts the registers behind a devm revocable provider and
//     runs every file operation inside a consumer's read section, with a
//     cdev_alloc'ed cdev that lives as long as its files.
//   - Drain embeds the cdev in devm-allocated memory, which is freed at
//     unbind, but initialises it with revocable file operations
//     (chardev.Active): cdev_del revokes them, waits for the calls in
//     flight, releases the open files and detaches them from the cdev, so
//     that nothing touches the struct once it is freed.
//   - DevmCdev is the classic bug: the struct that embeds the cdev is
//     devm-allocated, so unbind frees it while a file still holds the
//     cdev. Its file operations are safe (revocable), but the file's last
//     fput runs cdev_put on the freed struct: KASAN's use-after-free.
//
// Init is the module's init (class_create, alloc_chrdev_region,
// platform_driver_register); the driver binds to platform devices named
// "sensor". Its state and registers are simulated allocations of the
// machine's memory, so every touch of freed memory is reported.
package sensor
