/* Optional CPU protections, turned on at boot when the CPU has them. */
#ifndef TANDEM_CPU_FEATURES_H
#define TANDEM_CPU_FEATURES_H

#include <stdbool.h>

// Probes CPUID and sets the CR4 bits of what is present (now: UMIP).
void cpu_features_init(void);
// Whether CR4.UMIP is on: ring 3 cannot read the descriptor-table registers.
bool cpu_umip_enabled(void);

#endif
