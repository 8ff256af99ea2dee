/* version.h: the anonetl release, recorded with each run. */
#ifndef VERSION_H
#define VERSION_H
#define ANONETL_VERSION "0.1.0"
#endif
