/* CP949 (and EUC-KR, its subset) to UTF-8 through a lookup table, bytes to bytes.

   The table is built in Python from Python's own cp949 codec (see transcode.py), so this loop
   only moves bytes: ASCII eight bytes at a time, each two-byte character as one table entry.
   It runs without the GIL. Optional: when it cannot be compiled, iconv or the codec is used.

   convert(table, data) -> (utf8: bytes, used: int, invalid: bool)
     table: 65536 entries of 4 bytes, indexed by (lead << 8 | trail): the character's UTF-8
            bytes, padded, with their count in the fourth byte (0: not a character).
     used:  bytes of data converted; a lead byte at the very end is left for the next call.
     invalid: data[used] starts a sequence that is not a CP949 character. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TABLE_BYTES (65536 * 4)
#define HIGH_BITS 0x8080808080808080ULL

static PyObject *convert(PyObject *module, PyObject *args) {
    Py_buffer table, data;
    if (!PyArg_ParseTuple(args, "y*y*", &table, &data)) {
        return NULL;
    }
    if (table.len != TABLE_BYTES) {
        PyBuffer_Release(&table);
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "the table must hold 65536 entries of 4 bytes");
        return NULL;
    }
    const unsigned char *in = data.buf;
    const unsigned char *entries = table.buf;
    Py_ssize_t n = data.len, i = 0;
    /* two bytes become at most three; eight bytes of slack for the word copies */
    PyObject *result = PyBytes_FromStringAndSize(NULL, n + n / 2 + 8);
    if (result == NULL) {
        PyBuffer_Release(&table);
        PyBuffer_Release(&data);
        return NULL;
    }
    unsigned char *start = (unsigned char *)PyBytes_AS_STRING(result), *out = start;
    int invalid = 0;
    Py_BEGIN_ALLOW_THREADS
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t word;
            memcpy(&word, in + i, 8);
            if (word & HIGH_BITS) {
                break;
            }
            memcpy(out, &word, 8);
            out += 8;
            i += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned char lead = in[i];
        if (lead < 0x80) {
            *out++ = lead;
            i++;
            continue;
        }
        if (i + 1 >= n) {
            break; /* the trail byte comes with the next chunk */
        }
        const unsigned char *entry = entries + (((size_t)lead << 8) | in[i + 1]) * 4;
        if (entry[3] == 0) {
            invalid = 1;
            break;
        }
        memcpy(out, entry, 4);
        out += entry[3];
        i += 2;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&table);
    PyBuffer_Release(&data);
    if (_PyBytes_Resize(&result, out - start) < 0) {
        return NULL;
    }
    return Py_BuildValue("(NnO)", result, i, invalid ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"convert", convert, METH_VARARGS, "CP949 bytes to UTF-8 through a lookup table."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cp949", "CP949 to UTF-8 through a lookup table.", -1, methods,
};

PyMODINIT_FUNC PyInit__cp949(void) {
    return PyModule_Create(&module);
}
