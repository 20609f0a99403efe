// JNI entry points of the emulator for org.solulens.gpu.EmulatorNative. Device memory in the emulator is
// host memory: the Java side allocates and copies it itself; only kernel launches come here.
#include <jni.h>

#include <string>
#include <vector>

#include "emulator.h"

extern "C" {

// "name signature" for every kernel (signature: one letter per parameter, see cuda_shim.h).
JNIEXPORT jobjectArray JNICALL Java_org_solulens_gpu_EmulatorNative_kernels(JNIEnv* env, jclass) {
    std::vector<std::string> names = solulens_emulator_kernels();
    for (std::string& name : names) name += " " + solulens_emulator_signature(name);
    jobjectArray out = env->NewObjectArray((jsize)names.size(), env->FindClass("java/lang/String"), nullptr);
    for (size_t i = 0; i < names.size(); i++) env->SetObjectArrayElement(out, (jsize)i, env->NewStringUTF(names[i].c_str()));
    return out;
}

JNIEXPORT void JNICALL Java_org_solulens_gpu_EmulatorNative_cancel(JNIEnv*, jclass) { solulens_emulator_cancel(); }

// args: one 8-byte slot per kernel argument (a pointer, or an int/float in the low bytes), as packed by KernelArgs.
JNIEXPORT jstring JNICALL Java_org_solulens_gpu_EmulatorNative_launch(JNIEnv* env, jclass, jstring kernel, jint gx, jint gy, jint gz,
                                                                      jint bx, jint by, jint bz, jint sharedBytes, jlongArray args,
                                                                      jint workers) {
    const char* chars = env->GetStringUTFChars(kernel, nullptr);
    std::string name(chars);
    env->ReleaseStringUTFChars(kernel, chars);
    jsize n = env->GetArrayLength(args);
    std::vector<jlong> slots(n);
    env->GetLongArrayRegion(args, 0, n, slots.data());
    std::vector<void*> pointers(n);
    for (jsize i = 0; i < n; i++) pointers[i] = &slots[i];
    std::string error = solulens_emulator_launch(name, (unsigned)gx, (unsigned)gy, (unsigned)gz, (unsigned)bx, (unsigned)by,
                                                 (unsigned)bz, (size_t)sharedBytes, pointers.data(), workers);
    return error.empty() ? nullptr : env->NewStringUTF(error.c_str());
}
}
