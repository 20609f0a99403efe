// JNI entry points of org.solulens.cpu.NativeConversions. The Java side checks every index and that both buffers are
// direct before it calls.
#include <jni.h>

#include "conversions.h"

extern "C" {

// Null when the conversions can run here, else why not.
JNIEXPORT jstring JNICALL Java_org_solulens_cpu_NativeConversions_init0(JNIEnv* env, jclass) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? nullptr : env->NewStringUTF("this CPU has no AVX2");
}

JNIEXPORT void JNICALL Java_org_solulens_cpu_NativeConversions_widen0(JNIEnv* env, jclass, jobject src, jlong srcIndex, jlong dst,
                                                                     jlong n) {
    const float* from = static_cast<const float*>(env->GetDirectBufferAddress(src));
    solulens::widenAvx2(from + srcIndex, reinterpret_cast<double*>(dst), n);
}

JNIEXPORT jfloat JNICALL Java_org_solulens_cpu_NativeConversions_narrow0(JNIEnv* env, jclass, jobject src, jlong srcIndex, jobject dst,
                                                                        jlong dstIndex, jlong n) {
    const double* from = static_cast<const double*>(env->GetDirectBufferAddress(src));
    float* to = static_cast<float*>(env->GetDirectBufferAddress(dst));
    return solulens::narrowAvx2(from + srcIndex, to + dstIndex, n);
}

}  // extern "C"
