"""The head the 3D outputs carry, in one place: its geometry type, the two heads and how the ICT one is fetched.

=====================  ===========================================================================
module                 holds
=====================  ===========================================================================
:mod:`.model`          :class:`HeadModel` (parts with the 52 morph targets, two eyes, a neck pivot)
:mod:`.procedural`     the small stylised head generated in code (``mesh="default"``)
:mod:`.ict`            the ICT-FaceKit head (MIT) read from its converted ``.npz`` (``mesh="ict"``)
:mod:`.fetch`          download the ICT-FaceKit release and convert it to that ``.npz`` (``fetch-ict``)
=====================  ===========================================================================

Head and eye rotations (the channel contract) are :func:`keyframeface.rig.pose_quaternions` and
:func:`keyframeface.rig.eye_angles`. Nothing here imports the exporters, the renderers or the command line.
"""
