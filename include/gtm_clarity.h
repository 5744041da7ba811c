/*-------------------------------------------------------------------------
 *
 * gtm_clarity.h
 *	  Declarations shared by the capabilities of gtm_clarity.
 *
 * Each capability lives in its own file under src/ and exposes one
 * initialisation function that _PG_init() (src/init.c) calls while the
 * library is being preloaded.
 *
 * IDENTIFICATION
 *	  include/gtm_clarity.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_CLARITY_H
#define GTM_CLARITY_H

#include "postgres.h"

/* src/enforce.c: tenant-scope enforcement (GUCs, hooks) */
extern void gtm_enforce_init(void);


#endif							/* GTM_CLARITY_H */
