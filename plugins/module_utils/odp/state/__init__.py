# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The datapaths of a host as one state document (docs/state.md).

* :mod:`.document`: the schema, parsed and validated (:func:`parse_document`);
* :mod:`.formats`: the document as YAML or JSON text;
* :mod:`.show`: the current state, read from the kernel, as a document;
* :mod:`.plan`: the ordered changes from one document to another;
* :mod:`.apply`: a plan made, with checkpoint, verification and rollback;
* :mod:`.links`: the link settings of network devices (MAC, MTU, addresses, up).
"""
