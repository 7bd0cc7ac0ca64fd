/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EGM firmware description for the VFIO QEMU suite
 * (scripts/egm/qemu-vfio-test.sh compiles it with iasl and passes it to
 * QEMU with -acpitable).
 *
 * On a Grace host the firmware puts the socket's EGM region into the _DSD
 * of every GPU of the socket.  Here the "GPUs" are QEMU pci-testdev
 * devices, each alone behind its own pci-bridge (so that its reset method
 * is a bus reset, which VFIO_DEVICE_RESET can use).  With -machine pc, QEMU's DSDT
 * declares a device per bridge slot: bridge in slot N of bus 0 is
 * \_SB.PCI0.S<N*8 in hex>, the device in slot 0 behind it is S00 there.
 * The kernel takes that node as the PCI device's ACPI companion
 * (firmware_node) and reads these properties through device_property_*().
 *
 *   slot 5 0000:01:00.0 GPU A  PXM 1, 1 GiB at 0x30000000, retired table
 *   slot 6 0000:02:00.0 GPU B  the same socket as A
 *   slot 7 0000:03:00.0 GPU C  PXM 0, 256 MiB at 0x20000000, no table
 *   slot 8 0000:04:00.0 GPU D  no EGM properties: plain nvgrace-gpu
 *   slot 9 0000:05:00.0 GPU E  invalid: a base not aligned to a page
 *
 * Every address is below 4 GiB, on purpose: ACPICA takes the width of
 * AML integers from the DSDT's revision, for all tables, and QEMU's DSDT
 * for -machine pc is revision 1, so integers are 32 bits wide here and a
 * base of 0x140000000 would reach the kernel as 0x40000000, whatever this
 * SSDT's own revision says (checked: nvgrace logged "base 0x40000800" for
 * GPU E).  Upgrading the DSDT from the initrd would widen them, but that
 * taints the kernel with LOCKDEP_NOW_UNRELIABLE, turning lockdep off for
 * the run; so qemu-vfio-test.sh lays the NUMA nodes out for regions
 * below 4 GiB instead (see there).
 * Revision 2 still documents the intent: Grace firmware is 64-bit.
 */
DefinitionBlock ("", "SSDT", 2, "EGMTST", "EGMVFIO", 0x00000001)
{
    External (\_SB.PCI0.S28.S00, DeviceObj)
    External (\_SB.PCI0.S30.S00, DeviceObj)
    External (\_SB.PCI0.S38.S00, DeviceObj)
    External (\_SB.PCI0.S48.S00, DeviceObj)

    /* GPU A */
    Scope (\_SB.PCI0.S28.S00)
    {
        Name (_DSD, Package ()
        {
            ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
            Package ()
            {
                Package () { "nvidia,egm-pxm", 1 },
                Package () { "nvidia,egm-base-pa", 0x30000000 },
                Package () { "nvidia,egm-size", 0x40000000 },
                Package () { "nvidia,egm-retired-pages-data-base", 0x1fff0000 },
            }
        })
    }

    /* GPU B: the second GPU of PXM 1 */
    Scope (\_SB.PCI0.S30.S00)
    {
        Name (_DSD, Package ()
        {
            ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
            Package ()
            {
                Package () { "nvidia,egm-pxm", 1 },
                Package () { "nvidia,egm-base-pa", 0x30000000 },
                Package () { "nvidia,egm-size", 0x40000000 },
                Package () { "nvidia,egm-retired-pages-data-base", 0x1fff0000 },
            }
        })
    }

    /* GPU C: PXM 0, no retired-page table */
    Scope (\_SB.PCI0.S38.S00)
    {
        Name (_DSD, Package ()
        {
            ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
            Package ()
            {
                Package () { "nvidia,egm-pxm", 0 },
                Package () { "nvidia,egm-base-pa", 0x20000000 },
                Package () { "nvidia,egm-size", 0x10000000 },
            }
        })
    }

    /* GPU D (slot 8, \_SB.PCI0.S40.S00) has no EGM properties. */

    /* GPU E: base 2 KiB past a page boundary; must be refused */
    Scope (\_SB.PCI0.S48.S00)
    {
        Name (_DSD, Package ()
        {
            ToUUID ("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"),
            Package ()
            {
                Package () { "nvidia,egm-pxm", 1 },
                Package () { "nvidia,egm-base-pa", 0x30000800 },
                Package () { "nvidia,egm-size", 0x40000000 },
            }
        })
    }
}
