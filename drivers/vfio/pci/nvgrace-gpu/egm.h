/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nvgrace-gpu as a parent of the socket's Extended GPU Memory (EGM) region:
 * the hooks main.c calls.  See egm.c.
 */
#ifndef NVGRACE_GPU_EGM_H
#define NVGRACE_GPU_EGM_H

struct pci_dev;
struct pci_error_handlers;
struct vfio_pci_core_device;

int nvgrace_gpu_egm_probe(struct pci_dev *pdev);
int nvgrace_gpu_egm_open_device(struct vfio_pci_core_device *vdev);

extern const struct pci_error_handlers nvgrace_gpu_egm_err_handlers;

#endif /* NVGRACE_GPU_EGM_H */
